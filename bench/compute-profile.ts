/**
 * Where a dispatch job's JavaScript time goes (NEPHELE_BENCH_PROFILE=1 with the compute bench): Chromium's CPU
 * profiler (cdp-profiler.ts) on the submitter's page, one host's page, and two SharedWorkers, during the timed
 * job. Prints each thread's self time by function, heaviest first; the raw profiles go to
 * /tmp/nephele-profile-<label>.cpuprofile (open them in Chrome's DevTools).
 */
import { writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { PeerTab } from '../tests/browser/harness.ts';
import { addSelfTimes, pageTargets, printSelfTimes, sharedWorkerTargets, startProfilers, stopProfiler, type ProfilerTarget } from './cdp-profiler.ts';

export interface Profiling {
  stop(tasks: number): Promise<void>;
}

/** Starts the profiler on the submitter page, a host page and every SharedWorker (up to `maxWorkers`). */
export async function startProfiling(browser: Browser, tabs: readonly PeerTab[], maxWorkers = 2): Promise<Profiling> {
  const [submitter, host] = await pageTargets(tabs.slice(0, 2));
  const targets: { label: string; target: ProfilerTarget }[] = [];
  if (submitter) targets.push({ label: 'submitter-page', target: submitter });
  if (host) targets.push({ label: 'host-page', target: host });
  try {
    for (const target of await sharedWorkerTargets(browser, maxWorkers)) targets.push({ label: `shared-worker-${targets.length}`, target });
  } catch (err) {
    console.log(`compute bench: no SharedWorker profile (${String(err)})`);
  }
  await startProfilers(targets.map((t) => t.target), 250);
  return {
    async stop(tasks: number): Promise<void> {
      for (const { label, target } of targets) {
        const profile = await stopProfiler(target);
        if (!profile) {
          console.log(`compute bench: profile of ${label}: none`);
          continue;
        }
        writeFileSync(`/tmp/nephele-profile-${label}.cpuprofile`, JSON.stringify(profile));
        const times = new Map<string, number>();
        addSelfTimes(profile, times);
        printSelfTimes(`compute bench: profile of ${label}`, times, 22, tasks);
      }
    },
  };
}
