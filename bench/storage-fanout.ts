/**
 * The raw references for a storage put, measured between real Chromium contexts on loopback: one page sends the
 * same bytes over plain RTCDataChannels (SDP exchanged by hand, ordered reliable, bufferedAmount backpressure, no
 * framing) to one other page (the single-channel rate) and to `receivers` other pages at once (the fan-out rate:
 * what a put with r replicas asks of the links, as every replica is a full copy), and the fan-in rate: those
 * `receivers` pages each send a third (1/receivers) of the bytes to the first page at once — what a get from several
 * replicas can at best reach on this machine. Rates are file bytes per second delivered to every receiver (fan-in:
 * to the one receiver), timed inside the pages on the epoch clock they share: from the first sender's start until
 * the last receiver has all its bytes. The pages are the bench page (dist-bench/, bench/page/transport-page.ts):
 * only its raw channels are used, so nothing of the app runs.
 */
import type { Page } from 'playwright-core';
import { waitUntil } from '../tests/browser/harness.ts';
import { callBenchPage as call, mediansOf, WARM_UP_BYTES, withBenchPages } from './transport-browser-throughput.ts';

export interface FanOutFigures {
  /** message size → MB/s (median of the rounds) with one receiver */
  readonly single: Map<number, number>;
  /** message size → MB/s per receiver (median of the rounds) with every receiver at once */
  readonly fanOut: Map<number, number>;
  /** message size → MB/s into one receiver (median of the rounds) with every other page sending a share at once */
  readonly fanIn: Map<number, number>;
  readonly singleRounds: Map<number, number[]>;
  readonly fanOutRounds: Map<number, number[]>;
  readonly fanInRounds: Map<number, number[]>;
}

/** Single-channel and fan-out rates (MB/s per receiver) from one sender to `receivers` pages, and the fan-in rate back. */
export function rawFanOut(receivers: number, sizes: readonly number[], total: number, rounds = 1): Promise<FanOutFigures> {
  // A fresh channel's first transfer is slower (WARM_UP_BYTES): every channel is warmed first.
  return withBenchPages(receivers + 1, async (pages) => {
    const [sender, ...targets] = pages as [Page, ...Page[]];
    const ids = targets.map((_, i) => `r${i}`);
    for (const [i, target] of targets.entries()) {
      await call(sender, 'rawAccept', await call(target, 'rawAnswer', await call(sender, 'rawOffer', ids[i]!)), ids[i]!);
      // The other way too, for the fan-in: every target sends to the first page on a channel of its own.
      await call(target, 'rawAccept', await call(sender, 'rawAnswer', await call(target, 'rawOffer', 'in')), 'in');
    }
    const run = async (to: string[], size: number, bytes: number): Promise<number> => {
      const receiving = targets.filter((_, i) => to.includes(ids[i]!));
      await Promise.all(receiving.map((p) => call(p, 'reset', bytes)));
      const startedAt = await call(sender, 'rawSend', size, bytes, to);
      let last = 0;
      await waitUntil(async () => {
        const done = await Promise.all(receiving.map(async (p) => (await call(p, 'received')).rawDoneAt));
        if (done.some((d) => d === null)) return false;
        last = Math.max(...(done as number[]));
        return true;
      }, 300_000, `raw bytes received by ${to.length} page(s)`);
      return bytes / ((last - startedAt) / 1000) / 1e6;
    };
    /** Every target sends its share of `bytes` to the first page at once; MB/s of the whole into that page. */
    const runIn = async (size: number, bytes: number): Promise<number> => {
      const share = Math.ceil(bytes / targets.length / size) * size;
      await call(sender, 'reset', share * targets.length);
      const starts = await Promise.all(targets.map((p) => call(p, 'rawSend', size, share, ['in'])));
      let doneAt = 0;
      await waitUntil(async () => {
        const d = (await call(sender, 'received')).rawDoneAt;
        if (d === null) return false;
        doneAt = d;
        return true;
      }, 300_000, `raw bytes received from ${targets.length} pages`);
      return (share * targets.length) / ((doneAt - Math.min(...starts)) / 1000) / 1e6;
    };
    await run(ids, sizes[0]!, Math.min(total, WARM_UP_BYTES));
    await runIn(sizes[0]!, Math.min(total, WARM_UP_BYTES));
    const single = new Map<number, number[]>();
    const fanOut = new Map<number, number[]>();
    const fanIn = new Map<number, number[]>();
    for (const size of sizes) {
      single.set(size, []);
      fanOut.set(size, []);
      fanIn.set(size, []);
      for (let round = 0; round < rounds; round++) {
        for (const kind of round % 2 === 0 ? ['single', 'fan', 'in'] as const : ['in', 'fan', 'single'] as const) {
          if (kind === 'single') single.get(size)!.push(await run([ids[0]!], size, total));
          else if (kind === 'fan') fanOut.get(size)!.push(await run(ids, size, total));
          else fanIn.get(size)!.push(await runIn(size, total));
        }
      }
    }
    return {
      single: mediansOf(single), fanOut: mediansOf(fanOut), fanIn: mediansOf(fanIn),
      singleRounds: single, fanOutRounds: fanOut, fanInRounds: fanIn,
    };
  });
}
