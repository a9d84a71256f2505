/**
 * What the pages' main threads do during a dispatch job, natively too (NEPHELE_BENCH_TRACE=1 with the compute
 * bench): a CPU profile shows most page time as "(program)" — style, layout, paint, message dispatch — so this
 * records a Chromium trace (devtools.timeline) over the timed job and prints, for the busiest renderer main
 * threads, the self time of each trace event kind (Layout, Paint, FunctionCall, …). The raw trace goes to
 * /tmp/nephele-trace-dispatch.json (open it in Chrome's Performance panel).
 */
import { writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly pid: number;
  readonly tid: number;
  readonly ts: number;
  readonly dur?: number;
  readonly args?: { readonly name?: string };
}

export interface Tracing {
  stop(tasks: number): Promise<void>;
}

export async function startTracing(browser: Browser, page: Page): Promise<Tracing> {
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink', 'toplevel'] });
  return {
    async stop(tasks: number): Promise<void> {
      const buffer = await browser.stopTracing();
      writeFileSync('/tmp/nephele-trace-dispatch.json', buffer);
      const events = (JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
      printMainThreads(events, tasks);
    },
  };
}

/** Self time by event name on each renderer main thread (complete events nest by time on one thread). */
function printMainThreads(events: readonly TraceEvent[], tasks: number): void {
  const mains = new Set<string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain') mains.add(`${e.pid}:${e.tid}`);
  const byThread = new Map<string, TraceEvent[]>();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph !== 'X' || e.dur === undefined || !mains.has(key)) continue;
    const list = byThread.get(key) ?? [];
    list.push(e);
    byThread.set(key, list);
  }
  const summaries = [...byThread].map(([thread, list]) => {
    list.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
    const self = new Map<string, number>();
    const stack: { end: number; name: string }[] = [];
    let busy = 0;
    for (const e of list) {
      while (stack.length > 0 && stack.at(-1)!.end <= e.ts) stack.pop();
      const parent = stack.at(-1);
      const dur = e.dur ?? 0;
      if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - dur);
      else busy += dur;
      self.set(e.name, (self.get(e.name) ?? 0) + dur);
      stack.push({ end: e.ts + dur, name: e.name });
    }
    return { thread, busy, self };
  }).sort((a, b) => b.busy - a.busy);
  for (const { thread, busy, self } of summaries.slice(0, 3)) {
    console.log(`== compute bench: trace of renderer main ${thread}: ${(busy / 1000).toFixed(0)} ms busy, ${(busy / 1000 / tasks).toFixed(3)} ms/task`);
    for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 14)) {
      console.log(`  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
    }
  }
}
