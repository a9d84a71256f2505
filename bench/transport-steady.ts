/**
 * A cloud's steady state in real Chromium (issue #2 at 32 peers: why a cloud that has joined never goes quiet):
 * `peers` portal pages join, get until every view is full (or `settleMs` after the last page opened), then for
 * `seconds` the bench samples every `sampleMs`: Chromium CPU by process type / thread (/proc), the load average,
 * and per page its view size, its live links and the edge's running counts (net/join-marks.ts countEdge: dials,
 * links up and closed and why, offers ignored at the cap, signals by route, overlay relays, frames per protocol).
 * Rates are per node per second over the measured window (difference of the counts at its two ends).
 *
 * `hidden`: each page reports itself hidden as soon as it loads (document.visibilityState, then a
 * `visibilitychange`), as a background tab would, so its node sends it no snapshots and the portal does not
 * render: what 32 peers cost without 32 visible portals on one machine (on a real machine a user watches one).
 */
import { loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import { launchChromium, startCloudServer } from '../tests/browser/harness.ts';
import { EDGE_COUNTS_GLOBAL } from '../src/net/join-marks.ts';
import { chromiumCpuTicks, CLOCK_TICKS_PER_SECOND } from './chromium-cpu.ts';
import { fullView, median, openPeerPages } from './transport-browser.ts';

export interface SteadyFigures {
  readonly peers: number;
  readonly hidden: boolean;
  readonly seconds: number;
  readonly openSeconds: number;
  readonly settleSeconds: number;
  /** Pages with a full view when the measurement began. */
  readonly settled: number;
  /** Load average (1 min) at each sample. */
  readonly load: number[];
  /** Chromium cores in all, per sample interval. */
  readonly coresPerInterval: number[];
  /** Chromium cores over the whole window, by "process type / thread". */
  readonly byThread: ReadonlyMap<string, number>;
  /** Per sample, the view sizes and link counts of the pages (median and minimum over pages). */
  readonly views: { median: number; min: number }[];
  readonly links: { median: number; min: number }[];
  /** Per count name, the mean over pages of its rate during the window (per node per second). */
  readonly rates: ReadonlyMap<string, number>;
}

interface PageSample {
  readonly view: number;
  readonly links: number;
  readonly counts: Record<string, number>;
}

/** A page's view size (from the portal: NaN while hidden), and its live links and counts from the edge. */
async function samplePage(page: Page, hidden: boolean): Promise<PageSample | null> {
  const read = await page.evaluate((global) => ({
    view: Number(document.querySelector('[data-testid="view-size"]')?.textContent ?? NaN),
    counts: { ...((globalThis as unknown as Record<string, Record<string, number> | undefined>)[global] ?? {}) },
  }), EDGE_COUNTS_GLOBAL).catch(() => null);
  if (!read) return null;
  const closed = Object.entries(read.counts).reduce((n, [name, v]) => (name.startsWith('closed:') ? n + v : n), 0);
  return { view: hidden ? NaN : read.view, links: (read.counts['link-up'] ?? 0) - closed, counts: read.counts };
}

/** Shows a page hidden by hidePage again (its node then sends it the latest snapshot). */
async function showPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
    document.dispatchEvent(new Event('visibilitychange'));
  }).catch(() => undefined);
}

function cpuBetween(before: Map<string, number>, after: Map<string, number>, seconds: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, ticks] of after) {
    const used = (ticks - (before.get(key) ?? 0)) / CLOCK_TICKS_PER_SECOND / seconds;
    if (used > 0) out.set(key, used);
  }
  return out;
}

const sum = (xs: Iterable<number>): number => [...xs].reduce((a, b) => a + b, 0);

export async function browserSteadyState(peers: number, hidden = false, seconds = 30, sampleMs = 5000, settleMs = 40_000, tickMs = 1000): Promise<SteadyFigures> {
  const server = await startCloudServer();
  const browser = await launchChromium();
  const full = fullView(peers);
  const url = `${server.url}/?cloud=bench-steady&tick=${tickMs}`;
  try {
    const { opened: pages, openSeconds } = await openPeerPages(browser, url, peers, hidden);
    const settling = performance.now();
    let samples = await Promise.all(pages.map((p) => samplePage(p, hidden)));
    while (performance.now() - settling < settleMs && !samples.every((s) => s !== null && s.view >= full)) {
      await new Promise((r) => setTimeout(r, 2000));
      samples = await Promise.all(pages.map((p) => samplePage(p, hidden)));
    }
    const settleSeconds = (performance.now() - settling) / 1000;
    const settled = samples.filter((s) => s !== null && s.view >= full).length;
    const first = samples;
    const load: number[] = [];
    const coresPerInterval: number[] = [];
    const views: SteadyFigures['views'] = [];
    const links: SteadyFigures['links'] = [];
    const record = (s: (PageSample | null)[]): void => {
      load.push(loadavg()[0]!);
      const v = s.flatMap((x) => (x && Number.isFinite(x.view) ? [x.view] : []));
      const l = s.flatMap((x) => (x && Number.isFinite(x.links) ? [x.links] : []));
      views.push({ median: median(v), min: Math.min(...v) });
      links.push({ median: median(l), min: Math.min(...l) });
    };
    record(first);
    const cpuStart = chromiumCpuTicks();
    const started = performance.now();
    let cpuPrev = cpuStart;
    let prevAt = started;
    let last = first;
    while (performance.now() - started < seconds * 1000) {
      await new Promise((r) => setTimeout(r, sampleMs));
      const cpu = chromiumCpuTicks();
      const now = performance.now();
      coresPerInterval.push(sum(cpuBetween(cpuPrev, cpu, (now - prevAt) / 1000).values()));
      cpuPrev = cpu;
      prevAt = now;
      last = await Promise.all(pages.map((p) => samplePage(p, hidden)));
      record(last);
    }
    const elapsed = (prevAt - started) / 1000;
    const byThread = cpuBetween(cpuStart, cpuPrev, elapsed);
    const totals = new Map<string, number>();
    let counted = 0;
    for (const [i, end] of last.entries()) {
      const begin = first[i];
      if (!end || !begin) continue;
      counted++;
      for (const [name, value] of Object.entries(end.counts)) totals.set(name, (totals.get(name) ?? 0) + value - (begin.counts[name] ?? 0));
    }
    if (hidden) {
      // Views are read from the portal: show the pages for a moment to read the last sample's.
      await Promise.all(pages.map(showPage));
      await new Promise((r) => setTimeout(r, 3000));
      const shown = await Promise.all(pages.map((p) => samplePage(p, false)));
      const v = shown.flatMap((x) => (x && Number.isFinite(x.view) ? [x.view] : []));
      views[views.length - 1] = { median: median(v), min: Math.min(...v) };
    }
    const rates = new Map([...totals].map(([name, total]) => [name, total / Math.max(1, counted) / elapsed] as const));
    return { peers, hidden, seconds: elapsed, openSeconds, settleSeconds, settled, load, coresPerInterval, byThread, views, links, rates };
  } finally {
    await browser.close();
    await server.close();
  }
}
