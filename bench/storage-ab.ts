/**
 * A/B of the storage put path: the quick put and get of bench/storage-browser.ts (no lookups) against two builds
 * of the app served side by side, alternately (A B A B …, same lock hold), with the CPU time Chromium's processes
 * used during each put (utime + stime of every Chromium thread, chromium-cpu.ts).
 *
 *   npx tsx bench/storage-ab.ts <dirA> <dirB> [rounds=3] [MiB=16] [peers=4] [probe=none|during]
 *
 * With `during`, the peers other than the putter time 50 Chord lookups each while the put runs (median, p99).
 *
 * Run inside the browser lock and the loopback-only namespace, like the benches.
 */
import { chromiumCpuSeconds } from './chromium-cpu.ts';
import { browserStorageFigures } from './storage-browser.ts';
import { median, percentile } from './transport-browser.ts';

async function main(): Promise<void> {
  const [dirA, dirB, roundsArg = '3', mibArg = '16', peersArg = '4', probe = 'none'] = process.argv.slice(2);
  if (!dirA || !dirB) throw new Error('usage: storage-ab.ts <dirA> <dirB> [rounds] [MiB] [peers]');
  const mib = Number(mibArg);
  const results: { label: string; put: number; get: number; cpu: number; error: string | null; lookups: number[] }[] = [];
  for (let round = 0; round < Number(roundsArg); round++) {
    for (const [label, dir] of round % 2 === 0 ? [['A', dirA], ['B', dirB]] : [['B', dirB], ['A', dirA]]) {
      let cpuAtStart = 0;
      let cpu = NaN;
      let f: Awaited<ReturnType<typeof browserStorageFigures>>;
      try {
        f = await browserStorageFigures(Number(peersArg), mib, {
          staticDir: dir, lookups: false, lookupsDuringPut: probe === 'during',
          onPhase: async (phase) => {
            if (phase === 'put-start') cpuAtStart = chromiumCpuSeconds();
            if (phase === 'put-done') cpu = chromiumCpuSeconds() - cpuAtStart;
          },
        });
      } catch (err) {
        console.log(`${label}: run failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        continue;
      }
      const r = { label: label!, put: f.bytes / 1e6 / f.putSeconds, get: f.bytes / 1e6 / f.getSeconds, cpu, error: f.getError, lookups: f.putLookupMs };
      results.push(r);
      const lookups = probe === 'during'
        ? `, lookups during the put: ${r.lookups.length}, median ${median(r.lookups).toFixed(1)} ms, p99 ${percentile(r.lookups, 99).toFixed(1)} ms, failed probes ${JSON.stringify(f.putLookupFailures)}`
        : '';
      console.log(`${r.label}: put ${r.put.toFixed(2)} MB/s, Chromium CPU during the put ${r.cpu.toFixed(1)} s (${((1000 * r.cpu) / mib).toFixed(0)} ms per MiB of file), get ${r.error ?? `${r.get.toFixed(2)} MB/s`}${lookups}`);
    }
  }
  for (const label of ['A', 'B']) {
    const mine = results.filter((r) => r.label === label);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const all = mine.flatMap((r) => r.lookups);
    const lookups = probe === 'during' ? `, lookups during the put (all runs): ${all.length}, median ${median(all).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms` : '';
    console.log(`${label} mean: put ${mean(mine.map((r) => r.put)).toFixed(2)} MB/s, get ${mean(mine.filter((r) => r.error === null).map((r) => r.get)).toFixed(2)} MB/s, CPU ${((1000 * mean(mine.map((r) => r.cpu))) / mib).toFixed(0)} ms per MiB of file${lookups}`);
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
