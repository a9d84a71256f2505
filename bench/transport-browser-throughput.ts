/**
 * Throughput between two real Chromium contexts over loopback, in one run: a raw RTCDataChannel (reference:
 * SDP exchanged by hand, ordered reliable, bufferedAmount backpressure) against the app's NetworkEdge moving the
 * same bytes as frames. Serves the bench page (bench/page, built into dist-bench/) from the real server.
 */
import type { Page } from 'playwright-core';
import { startSignalingServer } from '../signaling/server.ts';
import { launchChromium, newPeerContext, waitUntil } from '../tests/browser/harness.ts';

export interface ThroughputFigures {
  /** message size → MB/s */
  readonly raw: Map<number, number>;
  readonly edge: Map<number, number>;
}

type Api = {
  rawOffer(): Promise<RTCSessionDescriptionInit>;
  rawAnswer(o: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit>;
  rawAccept(a: RTCSessionDescriptionInit): Promise<void>;
  rawSend(size: number, total: number): Promise<void>;
  received(): { raw: number; edge: number };
  reset(): void;
  edgeStart(wsUrl: string): Promise<string>;
  edgeState(): { joined: boolean; up: string[] };
  edgeConnect(peer: string): void;
  edgeSend(to: string, size: number, total: number): Promise<void>;
};

function call<K extends keyof Api>(page: Page, method: K, ...args: Parameters<Api[K]>): Promise<Awaited<ReturnType<Api[K]>>> {
  return page.evaluate(
    ([m, a]) => (window as unknown as { transportBench: Record<string, (...x: unknown[]) => unknown> }).transportBench[m as string]!(...(a as unknown[])),
    [method, args] as const,
  ) as Promise<Awaited<ReturnType<Api[K]>>>;
}

async function timed(receiver: Page, kind: 'raw' | 'edge', total: number, start: () => Promise<void>): Promise<number> {
  await call(receiver, 'reset');
  const t0 = performance.now();
  const sending = start();
  await waitUntil(async () => (await call(receiver, 'received'))[kind] >= total, 180_000, `${kind} bytes received`);
  const seconds = (performance.now() - t0) / 1000;
  await sending;
  return total / seconds / 1e6;
}

export async function browserThroughput(sizes: readonly number[], total: number): Promise<ThroughputFigures> {
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: 'dist-bench' });
  const browser = await launchChromium();
  try {
    const [a, b] = await Promise.all([0, 1].map(async () => {
      const page = await (await newPeerContext(browser)).newPage();
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => 'transportBench' in window);
      return page;
    })) as [Page, Page];
    await call(a, 'rawAccept', await call(b, 'rawAnswer', await call(a, 'rawOffer')));
    const idA = await call(a, 'edgeStart', server.wsUrl);
    const idB = await call(b, 'edgeStart', server.wsUrl);
    await waitUntil(async () => (await call(a, 'edgeState')).joined && (await call(b, 'edgeState')).joined, 20_000, 'edges joined');
    await call(a, 'edgeConnect', idB);
    await waitUntil(async () => (await call(a, 'edgeState')).up.includes(idB) && (await call(b, 'edgeState')).up.includes(idA), 20_000, 'edge link up');
    const raw = new Map<number, number>();
    const edge = new Map<number, number>();
    for (const size of sizes) {
      raw.set(size, await timed(b, 'raw', total, () => call(a, 'rawSend', size, total)));
      edge.set(size, await timed(b, 'edge', total, () => call(a, 'edgeSend', idB, size, total)));
    }
    return { raw, edge };
  } finally {
    await browser.close();
    await server.close();
  }
}
