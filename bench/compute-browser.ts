/**
 * Compute figures from real Chromium peers (one browser context each, the built app served by the real server,
 * loopback only): jobs are published from the portal's compute panel of one peer (the submitter, which never
 * hosts its own job) and pulled by the others, each task in a fresh WASI sandbox worker. Timed from the submit
 * click until the job's progress shows every task accepted.
 */
import { chromiumCpuTicks } from './chromium-cpu.ts';
import type { Browser, Page } from 'playwright-core';
import { startSignalingServer } from '../signaling/server.ts';
import { connectedPeers, launchChromium, openPeer, pageDiagnosis, viewPeers, waitUntil, type PeerTab } from '../tests/browser/harness.ts';
import { submitComputeJob } from '../tests/browser/compute-page.ts';
import { startProfiling } from './compute-profile.ts';
import { startTracing } from './compute-trace.ts';

export interface BrowserJob {
  readonly module: string;
  readonly count: number;
  readonly template: string;
  readonly timeLimitSeconds: number;
}

/**
 * Chromium's CPU per thread kind (chromium-cpu.ts), printed for the timed dispatch job when NEPHELE_BENCH_CPU=1 to
 * see where a task's CPU goes (Linux only; NEPHELE_BENCH_CPU_PID=1 splits it per process);
 * NEPHELE_BENCH_PROFILE=1 adds JavaScript profiles of that job (compute-profile.ts), NEPHELE_BENCH_TRACE=1 a
 * Chromium trace of the pages' main threads (compute-trace.ts).
 */
const cpuTicks = (): Map<string, number> => chromiumCpuTicks(process.env['NEPHELE_BENCH_CPU_PID'] === '1');

function printCpu(before: Map<string, number>, after: Map<string, number>, tasks: number): void {
  const rows = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((s, [, d]) => s + d, 0);
  console.log(`compute bench: CPU of the timed job, ${total * 10} ms in all, ${((total * 10) / tasks).toFixed(2)} ms per task:`);
  for (const [k, d] of rows.slice(0, 25)) console.log(`  ${(d * 10).toString().padStart(7)} ms  ${((d * 10) / tasks).toFixed(2).padStart(6)} ms/task  ${k}`);
}

/** Seconds from the submit click until every task of the job is accepted. */
async function runJob(tabs: readonly PeerTab[], job: BrowserJob, timeoutMs: number, cpu = false, browser: Browser | null = null): Promise<number> {
  const page = tabs[0]!.page;
  await page.getByTestId('compute-module-select').selectOption(job.module);
  await page.getByTestId('compute-task-count').fill(String(job.count));
  await page.getByTestId('compute-args-template').fill(job.template);
  await page.getByTestId('compute-generate').click();
  await page.getByTestId('compute-redundancy-n').fill('1');
  await page.getByTestId('compute-quorum-k').fill('1');
  await page.getByTestId('compute-time-limit').fill(String(job.timeLimitSeconds));
  if (cpu) {
    const idle = cpuTicks();
    await new Promise((r) => setTimeout(r, 5_000));
    console.log('compute bench: idle for 5 s before the job (per "task" = per 1/80 s):');
    printCpu(idle, cpuTicks(), 400);
  }
  const profiling = browser && process.env['NEPHELE_BENCH_PROFILE'] === '1' ? await startProfiling(browser, tabs) : null;
  const tracing = browser && process.env['NEPHELE_BENCH_TRACE'] === '1' ? await startTracing(browser, page) : null;
  const cpuBefore = cpu ? cpuTicks() : null;
  const t0 = performance.now();
  const entry = await submitComputeJob(page, 30_000, 'bench job published');
  const publishedAfter = (performance.now() - t0) / 1000;
  const ended = new Set(['done', 'failed', 'cancelled']);
  const explain = async (): Promise<string> => {
    const parts: string[] = [];
    for (const t of tabs) parts.push(`-- ${t.peerId.slice(0, 8)}:\n${await pageDiagnosis(t.page, 15)}`);
    return parts.join('\n');
  };
  const timeline: string[] = [];
  await waitUntil(async () => {
    if (cpu) timeline.push(`${((performance.now() - t0) / 1000).toFixed(2)}s ${(await entry.getByTestId('compute-progress').textContent()) ?? ''}`);
    return ended.has((await entry.getAttribute('data-state')) ?? '');
  }, timeoutMs, `job of ${job.count} × ${job.module} finished`, explain);
  if (cpu) console.log(`compute bench: published after ${publishedAfter.toFixed(2)} s; progress ${timeline.join(', ')}`);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`compute bench: ${job.count} × ${job.module} ${job.template} in ${seconds.toFixed(2)} s`);
  if (cpuBefore) printCpu(cpuBefore, cpuTicks(), job.count);
  await profiling?.stop(job.count);
  await tracing?.stop(job.count);
  const state = await entry.getAttribute('data-state');
  const progress = (await entry.getByTestId('compute-progress').textContent()) ?? '';
  if (state !== 'done' || progress !== `${job.count}/${job.count}`) throw new Error(`E_BENCH_COMPUTE: job ended ${state} at ${progress}`);
  return seconds;
}

/** Opens `hosts + 1` peers in a fresh cloud and waits until the submitter's view holds every host. */
async function openCloud(browser: Browser, base: string, cloud: string, hosts: number): Promise<PeerTab[]> {
  const url = `${base}/?cloud=${cloud}&tick=300`;
  const tabs: PeerTab[] = [];
  for (let i = 0; i <= hosts; i++) tabs.push(await openPeer(browser, url));
  const submitter = tabs[0]!;
  // Every host known to the submitter (in its view or linked to it), so the first announcement can reach all.
  const known = async (): Promise<number> => {
    const seen = new Set([...await viewPeers(submitter.page), ...await connectedPeers(submitter.page)]);
    return tabs.slice(1).filter((t) => seen.has(t.peerId)).length;
  };
  try {
    await waitUntil(async () => (await known()) >= hosts, 60_000, `submitter knows ${hosts} hosts`);
  } catch {
    console.log(`compute bench: the submitter knows ${await known()} of ${hosts} hosts after 60 s; going on (announcements gossip on)`);
  }
  // Let every host see the others too, and its runner report that it can host.
  await new Promise((r) => setTimeout(r, 2_000));
  return tabs;
}

async function setSlots(page: Page, slots: number): Promise<void> {
  await page.getByTestId('compute-max-concurrent').fill(String(slots));
  await page.getByTestId('compute-apply-limits').click();
}

export interface ComputeBrowserFigures {
  /** Tiny-task job on `dispatchHosts` hosts: tasks and seconds. */
  readonly dispatch: { readonly hosts: number; readonly tasks: number; readonly seconds: number };
  /** Compute-bound job on 1, 2, 4 hosts: seconds each. */
  readonly parallel: { readonly hosts: number; readonly tasks: number; readonly seconds: number }[];
}

export async function browserComputeFigures(opts: {
  readonly dispatchHosts: number;
  readonly dispatchTasks: number;
  readonly parallelHosts: readonly number[];
  readonly parallelTasks: number;
  readonly primesArg: number;
  /** Only the dispatch job (NEPHELE_BENCH_COMPUTE=dispatch); `parallel` is then empty. */
  readonly dispatchOnly?: boolean;
}): Promise<ComputeBrowserFigures> {
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: 'dist', maxConnectionsPerAddress: 256 });
  const browser = await launchChromium();
  try {
    let tabs = await openCloud(browser, server.url, 'bench-dispatch', opts.dispatchHosts);
    // A warm-up job fetches the module to every host, so the timed job measures dispatch only.
    await runJob(tabs, { module: 'exit.wasm', count: opts.dispatchHosts * 4, template: '0', timeLimitSeconds: 10 }, 60_000);
    const seconds = await runJob(
      tabs, { module: 'exit.wasm', count: opts.dispatchTasks, template: '0', timeLimitSeconds: 10 }, 600_000, process.env['NEPHELE_BENCH_CPU'] === '1',
      browser,
    );
    const dispatch = { hosts: opts.dispatchHosts, tasks: opts.dispatchTasks, seconds };
    for (const t of tabs) await t.context.close();
    if (opts.dispatchOnly) return { dispatch, parallel: [] };

    // One cloud for every parallel run, big enough for a healthy peer-sampling view (a 2-peer Cyclon view can
    // be empty for a while, and announcements go only to view entries); only `hosts` of its peers lend, 1 slot each.
    const maxHosts = Math.max(...opts.parallelHosts);
    tabs = await openCloud(browser, server.url, 'bench-parallel', maxHosts);
    const parallel: ComputeBrowserFigures['parallel'] = [];
    for (const hosts of opts.parallelHosts) {
      for (const [i, t] of tabs.slice(1).entries()) await setSlots(t.page, i < hosts ? 1 : 0);
      await new Promise((r) => setTimeout(r, 1_000));
      await runJob(tabs, { module: 'primes.wasm', count: hosts * 2, template: '1000', timeLimitSeconds: 60 }, 60_000);
      const s = await runJob(tabs, {
        module: 'primes.wasm', count: opts.parallelTasks, template: String(opts.primesArg), timeLimitSeconds: 120,
      }, 900_000);
      parallel.push({ hosts, tasks: opts.parallelTasks, seconds: s });
    }
    for (const t of tabs) await t.context.close();
    return { dispatch, parallel };
  } finally {
    await browser.close();
    await server.close();
  }
}
