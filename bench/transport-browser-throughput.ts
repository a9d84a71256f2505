/**
 * Throughput between two real Chromium contexts over loopback, in one run: a raw RTCDataChannel (reference:
 * SDP exchanged by hand, ordered reliable, bufferedAmount backpressure) against the app's NetworkEdge moving the
 * same bytes as frames. Serves the bench page (bench/page, built into dist-bench/) from the real server.
 */
import type { Page } from 'playwright-core';
import { startSignalingServer, type SignalingServer } from '../signaling/server.ts';
import { launchChromium, newPeerContext, waitUntil } from '../tests/browser/harness.ts';
import { median } from './transport-browser.ts';
import type { TransportBenchApi } from './page/transport-page.ts';

export interface ThroughputFigures {
  /** message size → MB/s, the median of the rounds */
  readonly raw: Map<number, number>;
  readonly edge: Map<number, number>;
  /** message size → MB/s of each round */
  readonly rawRounds: Map<number, number[]>;
  readonly edgeRounds: Map<number, number[]>;
}

/**
 * A fresh connection's first transfer runs several times slower than the next ones (seen here: 3.3 then 21 MB/s
 * for the same 16 MiB), which once made the first size look like a transport overhead. So each connection first
 * moves WARM_UP_BYTES unmeasured, and each size is then measured in rounds ordered raw-edge, edge-raw, … so a
 * drift in machine load does not favour one side.
 */
export const WARM_UP_BYTES = 8 * 1024 * 1024;

/**
 * Opens `count` bench pages (bench/page, built into dist-bench/, served by the real server), each in its own
 * context, runs `work` on them, and closes everything after.
 */
export async function withBenchPages<T>(count: number, work: (pages: Page[], server: SignalingServer) => Promise<T>, staticDir = 'dist-bench'): Promise<T> {
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir });
  const browser = await launchChromium();
  try {
    const pages = await Promise.all(Array.from({ length: count }, async () => {
      const page = await (await newPeerContext(browser)).newPage();
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => 'transportBench' in window);
      return page;
    }));
    return await work(pages, server);
  } finally {
    await browser.close();
    await server.close();
  }
}

/** size → the median of its rounds' rates. */
export function mediansOf(rounds: ReadonlyMap<number, number[]>): Map<number, number> {
  return new Map([...rounds].map(([size, rates]) => [size, median(rates)]));
}

/** Calls `window.transportBench[method]` (bench/page/transport-page.ts) in a bench page. */
export function callBenchPage<K extends keyof TransportBenchApi>(
  page: Page, method: K, ...args: Parameters<TransportBenchApi[K]>
): Promise<Awaited<ReturnType<TransportBenchApi[K]>>> {
  return page.evaluate(
    ([m, a]) => (window as unknown as { transportBench: Record<string, (...x: unknown[]) => unknown> }).transportBench[m as string]!(...(a as unknown[])),
    [method, args] as const,
  ) as Promise<Awaited<ReturnType<TransportBenchApi[K]>>>;
}

/**
 * MB/s of one transfer, timed inside the pages (sender's start to the receiver's last byte, on the epoch clock
 * both pages share), so the harness's polling does not blur it.
 */
async function timed(receiver: Page, kind: 'raw' | 'edge', total: number, start: () => Promise<number>): Promise<number> {
  await callBenchPage(receiver, 'reset', total);
  const startedAt = await start();
  let doneAt: number | null = null;
  await waitUntil(async () => {
    const r = await callBenchPage(receiver, 'received');
    doneAt = kind === 'raw' ? r.rawDoneAt : r.edgeDoneAt;
    return doneAt !== null;
  }, 180_000, `${kind} bytes received`);
  return total / ((doneAt! - startedAt) / 1000) / 1e6;
}

/** `staticDir`: the built bench page to serve (an A/B serves two builds of it). */
export function browserThroughput(sizes: readonly number[], total: number, rounds = 1, staticDir = 'dist-bench'): Promise<ThroughputFigures> {
  return withBenchPages(2, async (pages, server) => {
    const [a, b] = pages as [Page, Page];
    await callBenchPage(a, 'rawAccept', await callBenchPage(b, 'rawAnswer', await callBenchPage(a, 'rawOffer')));
    const idA = await callBenchPage(a, 'edgeStart', server.wsUrl);
    const idB = await callBenchPage(b, 'edgeStart', server.wsUrl);
    const state = (page: Page) => callBenchPage(page, 'edgeState');
    await waitUntil(async () => (await state(a)).joined && (await state(b)).joined, 20_000, 'edges joined');
    await callBenchPage(a, 'edgeConnect', idB);
    await waitUntil(async () => (await state(a)).up.includes(idB) && (await state(b)).up.includes(idA), 20_000, 'edge link up');
    const raw = new Map<number, number[]>();
    const edge = new Map<number, number[]>();
    const run = (kind: 'raw' | 'edge', size: number, bytes: number): Promise<number> => timed(b, kind, bytes, () => (
      kind === 'raw' ? callBenchPage(a, 'rawSend', size, bytes) : callBenchPage(a, 'edgeSend', idB, size, bytes)
    ));
    await run('raw', sizes[0]!, Math.min(total, WARM_UP_BYTES));
    await run('edge', sizes[0]!, Math.min(total, WARM_UP_BYTES));
    for (const size of sizes) {
      raw.set(size, []);
      edge.set(size, []);
      for (let round = 0; round < rounds; round++) {
        for (const kind of round % 2 === 0 ? ['raw', 'edge'] as const : ['edge', 'raw'] as const) {
          (kind === 'raw' ? raw : edge).get(size)!.push(await run(kind, size, total));
        }
      }
    }
    return { raw: mediansOf(raw), edge: mediansOf(edge), rawRounds: raw, edgeRounds: edge };
  }, staticDir);
}
