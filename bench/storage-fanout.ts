/**
 * The raw references for a storage put, measured between real Chromium contexts on loopback: one page sends the
 * same bytes over plain RTCDataChannels (SDP exchanged by hand, ordered reliable, bufferedAmount backpressure, no
 * framing) to one other page (the single-channel rate) and to `receivers` other pages at once (the fan-out rate:
 * what a put with r replicas asks of the links, as every replica is a full copy). Rates are file bytes per second
 * delivered to every receiver, timed inside the pages on the epoch clock they share: from the sender's start
 * until the last receiver has all its bytes. The pages are the bench page (dist-bench/) with the code below
 * evaluated in them, so nothing of the app runs.
 */
import type { Page } from 'playwright-core';
import { startSignalingServer } from '../signaling/server.ts';
import { launchChromium, newPeerContext, waitUntil } from '../tests/browser/harness.ts';
import { median } from './transport-browser.ts';

export interface FanOutFigures {
  /** message size → MB/s (median of the rounds) with one receiver */
  readonly single: Map<number, number>;
  /** message size → MB/s per receiver (median of the rounds) with every receiver at once */
  readonly fanOut: Map<number, number>;
  readonly singleRounds: Map<number, number[]>;
  readonly fanOutRounds: Map<number, number[]>;
}

/** A fresh channel's first transfer is slower (bench/transport-browser-throughput.ts): warm every channel first. */
const WARM_UP_BYTES = 8 * 1024 * 1024;

interface Description { type: RTCSdpType; sdp: string }

/** Installs `window.fanBench` in a page (evaluated there: self-contained, no imports). */
function install(): void {
  const HIGH_WATER = 4 * 1024 * 1024;
  const clock = (): number => performance.timeOrigin + performance.now();
  const pcs = new Map<string, RTCPeerConnection>();
  const channels = new Map<string, RTCDataChannel>();
  const state = { received: 0, target: Infinity, doneAt: null as number | null };
  const gathered = async (pc: RTCPeerConnection): Promise<Description> => {
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
    }
    return { type: pc.localDescription!.type, sdp: pc.localDescription!.sdp };
  };
  const opened = (ch: RTCDataChannel): Promise<void> => (ch.readyState === 'open' ? Promise.resolve() : new Promise((r) => ch.addEventListener('open', () => r(), { once: true })));
  (window as unknown as { fanBench: unknown }).fanBench = {
    async offer(id: string): Promise<Description> {
      const pc = new RTCPeerConnection({ iceServers: [] });
      const ch = pc.createDataChannel('raw');
      ch.binaryType = 'arraybuffer';
      pcs.set(id, pc);
      channels.set(id, ch);
      await pc.setLocalDescription(await pc.createOffer());
      return gathered(pc);
    },
    async answer(offer: Description): Promise<Description> {
      const pc = new RTCPeerConnection({ iceServers: [] });
      pc.ondatachannel = (e): void => {
        e.channel.binaryType = 'arraybuffer';
        e.channel.onmessage = (m: MessageEvent<ArrayBuffer>): void => {
          state.received += m.data.byteLength;
          if (state.received >= state.target && state.doneAt === null) state.doneAt = clock();
        };
      };
      pcs.set('in', pc);
      await pc.setRemoteDescription(offer);
      await pc.setLocalDescription(await pc.createAnswer());
      return gathered(pc);
    },
    async accept(id: string, answer: Description): Promise<void> {
      await pcs.get(id)!.setRemoteDescription(answer);
      await opened(channels.get(id)!);
    },
    reset(target: number): void {
      Object.assign(state, { received: 0, target, doneAt: null });
    },
    doneAt(): number | null {
      return state.doneAt;
    },
    /** Sends `total` bytes in `size`-byte messages to each of `ids` at once; resolves to when it started. */
    async send(ids: string[], size: number, total: number): Promise<number> {
      const startedAt = clock();
      const payload = new Uint8Array(size).fill(1);
      await Promise.all(ids.map(async (id) => {
        const ch = channels.get(id)!;
        ch.bufferedAmountLowThreshold = HIGH_WATER / 4;
        for (let sent = 0; sent < total;) {
          if (ch.bufferedAmount > HIGH_WATER) {
            await new Promise<void>((r) => ch.addEventListener('bufferedamountlow', () => r(), { once: true }));
            continue;
          }
          ch.send(payload);
          sent += size;
        }
      }));
      return startedAt;
    },
  };
}

type Api = {
  offer(id: string): Promise<Description>;
  answer(offer: Description): Promise<Description>;
  accept(id: string, answer: Description): Promise<void>;
  reset(target: number): void;
  doneAt(): number | null;
  send(ids: string[], size: number, total: number): Promise<number>;
};

function call<K extends keyof Api>(page: Page, method: K, ...args: Parameters<Api[K]>): Promise<Awaited<ReturnType<Api[K]>>> {
  return page.evaluate(
    ([m, a]) => (window as unknown as { fanBench: Record<string, (...x: unknown[]) => unknown> }).fanBench[m as string]!(...(a as unknown[])),
    [method, args] as const,
  ) as Promise<Awaited<ReturnType<Api[K]>>>;
}

/** Single-channel and fan-out rates (MB/s per receiver) from one sender to `receivers` pages. */
export async function rawFanOut(receivers: number, sizes: readonly number[], total: number, rounds = 1): Promise<FanOutFigures> {
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: 'dist-bench' });
  const browser = await launchChromium();
  try {
    const pages = await Promise.all(Array.from({ length: receivers + 1 }, async () => {
      const page = await (await newPeerContext(browser)).newPage();
      await page.goto(`${server.url}/`);
      // tsx keeps function names by wrapping inner functions in __name(fn, "name"); the page needs that helper.
      await page.evaluate('globalThis.__name = (fn) => fn');
      await page.evaluate(install);
      return page;
    }));
    const [sender, ...targets] = pages as [Page, ...Page[]];
    const ids = targets.map((_, i) => `r${i}`);
    for (const [i, target] of targets.entries()) {
      await call(sender, 'accept', ids[i]!, await call(target, 'answer', await call(sender, 'offer', ids[i]!)));
    }
    const run = async (to: string[], size: number, bytes: number): Promise<number> => {
      const receiving = targets.filter((_, i) => to.includes(ids[i]!));
      await Promise.all(receiving.map((p) => call(p, 'reset', bytes)));
      const startedAt = await call(sender, 'send', to, size, bytes);
      let last = 0;
      await waitUntil(async () => {
        const done = await Promise.all(receiving.map((p) => call(p, 'doneAt')));
        if (done.some((d) => d === null)) return false;
        last = Math.max(...(done as number[]));
        return true;
      }, 300_000, `raw bytes received by ${to.length} page(s)`);
      return bytes / ((last - startedAt) / 1000) / 1e6;
    };
    await run(ids, sizes[0]!, Math.min(total, WARM_UP_BYTES));
    const single = new Map<number, number[]>();
    const fanOut = new Map<number, number[]>();
    for (const size of sizes) {
      single.set(size, []);
      fanOut.set(size, []);
      for (let round = 0; round < rounds; round++) {
        for (const kind of round % 2 === 0 ? ['single', 'fan'] as const : ['fan', 'single'] as const) {
          if (kind === 'single') single.get(size)!.push(await run([ids[0]!], size, total));
          else fanOut.get(size)!.push(await run(ids, size, total));
        }
      }
    }
    const medians = (m: Map<number, number[]>): Map<number, number> => new Map([...m].map(([s, rates]) => [s, median(rates)]));
    return { single: medians(single), fanOut: medians(fanOut), singleRounds: single, fanOutRounds: fanOut };
  } finally {
    await browser.close();
    await server.close();
  }
}
