/**
 * A/B of the storage put path: the quick put and get of bench/storage-browser.ts (no lookups) against two builds
 * of the app served side by side, alternately (A B A B …, same lock hold), with the CPU time Chromium's processes
 * used during each put (utime + stime from /proc, all processes whose name starts with "chrom" or "headless").
 *
 *   npx tsx bench/storage-ab.ts <dirA> <dirB> [rounds=3] [MiB=16] [peers=4]
 *
 * Run inside the browser lock and the loopback-only namespace, like the benches.
 */
import { readdir, readFile } from 'node:fs/promises';
import { browserStorageFigures } from './storage-browser.ts';

const TICKS_PER_SECOND = 100;

/** Summed CPU seconds of Chromium's processes so far. */
async function chromiumCpuSeconds(): Promise<number> {
  let ticks = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!/^(chrom|headless)/.test(name)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}

async function main(): Promise<void> {
  const [dirA, dirB, roundsArg = '3', mibArg = '16', peersArg = '4'] = process.argv.slice(2);
  if (!dirA || !dirB) throw new Error('usage: storage-ab.ts <dirA> <dirB> [rounds] [MiB] [peers]');
  const mib = Number(mibArg);
  const results: { label: string; put: number; get: number; cpu: number; error: string | null }[] = [];
  for (let round = 0; round < Number(roundsArg); round++) {
    for (const [label, dir] of round % 2 === 0 ? [['A', dirA], ['B', dirB]] : [['B', dirB], ['A', dirA]]) {
      let cpuAtStart = 0;
      let cpu = NaN;
      let f: Awaited<ReturnType<typeof browserStorageFigures>>;
      try {
        f = await browserStorageFigures(Number(peersArg), mib, {
          staticDir: dir, lookups: false,
          onPhase: async (phase) => {
            if (phase === 'put-start') cpuAtStart = await chromiumCpuSeconds();
            if (phase === 'put-done') cpu = (await chromiumCpuSeconds()) - cpuAtStart;
          },
        });
      } catch (err) {
        console.log(`${label}: run failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        continue;
      }
      const r = { label: label!, put: f.bytes / 1e6 / f.putSeconds, get: f.bytes / 1e6 / f.getSeconds, cpu, error: f.getError };
      results.push(r);
      console.log(`${r.label}: put ${r.put.toFixed(2)} MB/s, Chromium CPU during the put ${r.cpu.toFixed(1)} s (${((1000 * r.cpu) / mib).toFixed(0)} ms per MiB of file), get ${r.error ?? `${r.get.toFixed(2)} MB/s`}`);
    }
  }
  for (const label of ['A', 'B']) {
    const mine = results.filter((r) => r.label === label);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    console.log(`${label} mean: put ${mean(mine.map((r) => r.put)).toFixed(2)} MB/s, CPU ${((1000 * mean(mine.map((r) => r.cpu))) / mib).toFixed(0)} ms per MiB of file`);
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
