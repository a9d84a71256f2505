/**
 * Where a put's CPU goes in the browser: runs the storage bench's put and get (bench/storage-browser.ts) and, from
 * the put's start to its end, Chromium's sampling CPU profiler (CDP `Profiler`) on every app page and on every
 * node's SharedWorker. Prints the self time per function summed over the pages and over the workers (JS threads
 * only: SCTP and the data channels run on Chromium's network threads, which this does not see).
 *
 *   npx tsx bench/storage-profile.ts [staticDir=dist] [MiB=16] [peers=4]
 *
 * Build the app unminified for readable names (`npx vite build --minify false --outDir <dir>`), and run it inside
 * the browser lock like any bench. The profiler's targets are cdp-profiler.ts's.
 */
import { browserStorageFigures } from './storage-browser.ts';
import { addSelfTimes, pageTargets, printSelfTimes, sharedWorkerTargets, startProfilers, stopProfiler, type ProfilerTarget } from './cdp-profiler.ts';

async function main(): Promise<void> {
  const [staticDir = 'dist', mibArg = '16', peersArg = '4'] = process.argv.slice(2);
  let targets: ProfilerTarget[] = [];
  const pages = new Map<string, number>();
  const workers = new Map<string, number>();
  const pageChains = new Map<string, number>();
  const workerChains = new Map<string, number>();
  const figures = await browserStorageFigures(Number(peersArg), Number(mibArg), {
    staticDir, lookups: false,
    onPhase: async (phase, browser, tabs) => {
      if (phase === 'put-start') {
        targets = [...(await pageTargets(tabs)), ...(await sharedWorkerTargets(browser))];
        console.log(`profiling ${targets.filter((t) => t.kind === 'page').length} pages and ${targets.filter((t) => t.kind === 'worker').length} shared workers`);
        await startProfilers(targets, 500);
      } else if (phase === 'put-done') {
        for (const t of targets) {
          const profile = await stopProfiler(t);
          if (!profile) continue;
          if (t.kind === 'page') addSelfTimes(profile, pages, pageChains);
          else addSelfTimes(profile, workers, workerChains);
        }
      }
    },
  });
  console.log(`put ${figures.bytes / 2 ** 20} MiB in ${figures.putSeconds.toFixed(2)} s (${(figures.bytes / 1e6 / figures.putSeconds).toFixed(2)} MB/s); get ${figures.getError ?? `${figures.getSeconds.toFixed(2)} s`}`);
  printSelfTimes('pages (main threads, summed)', pages, 30);
  printSelfTimes('shared workers (summed)', workers, 40);
  printSelfTimes('pages, by caller chain', pageChains, 30);
  printSelfTimes('shared workers, by caller chain', workerChains, 50);
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
