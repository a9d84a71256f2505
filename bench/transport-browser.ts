/**
 * Join time in real Chromium: `peers` browser contexts (fresh peers) open the page served by the real server,
 * one after another. Each page marks its own milestones on its performance timeline (see src/main.ts), so the
 * figures are "ms since that page's navigation began": joined at the server, first authenticated link, and a
 * full gossip view.
 *
 * "Full" is the view size when the cloud is larger than the view; in a smaller cloud it is peers − 2, because a
 * Cyclon node takes its shuffle partner out of its view during each exchange, so its view never reliably holds
 * all peers − 1 others at once. For the same reason a full view of 20 is only seen between a shuffle's reply and
 * the next tick, so the bench also records when each page first held 19 ("full but for the shuffle partner").
 *
 * The run never fails on a slow page: after the last page is open, every page gets until the deadline, and the
 * figures say how many pages reached each milestone; medians and p90s are over those that did.
 *
 * Stages: every page also records when it passed each stage of its join (net/join-marks.ts: worker start,
 * identity, signaling socket, bootstrap, offer, answer, ICE, channel, link handshake, first gossip exchange, view
 * of n), read here as ms since that page's navigation, for the per-stage table. After the arrival phase, a few
 * newcomers join the cloud one at a time (newcomerJoins).
 */
import { chromiumCpuTicks } from './chromium-cpu.ts';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newPeerContext, startCloudServer } from '../tests/browser/harness.ts';
import { GOSSIP_VIEW_SIZE } from '../src/runtime/gossip-slots.ts';
import { JOIN_MARK_PREFIX } from '../src/net/join-marks.ts';

export interface JoinFigures {
  readonly peers: number;
  /** The arrival pages reported themselves hidden once loaded (hidePage). */
  readonly hiddenCloud: boolean;
  readonly deadlineMs: number;
  /** The view size that counts as full, and the one below it (see above). */
  readonly fullView: number;
  /** Per milestone, the ms of each page that reached it (pages that did not are absent). */
  readonly joinedMs: number[];
  readonly firstLinkMs: number[];
  readonly nearlyFullMs: number[];
  readonly viewFullMs: number[];
  /** Seconds it took to open all pages one after another (pages open slower as the cloud grows). */
  readonly openSeconds: number;
  /** Per page, the ms at which it passed each join stage (net/join-marks.ts, named without the prefix). */
  readonly pageStages: Map<string, number>[];
  /** Fresh pages that joined the cloud of `peers` afterwards (newcomerJoins). */
  readonly newcomers: NewcomerFigures;
}

type Marks = { joined: number | null; firstLink: number | null; nearlyFull: number | null; full: number | null; stages: [string, number][] };

/**
 * The milestones come from the exact join marks (welcome from the server, first authenticated link, the worker's
 * view size); the portal's snapshot marks (src/main.ts: `nephele:joined`, … — 200 ms snapshot resolution, and
 * snapshots start only after the first link) are the fallback for a build without join marks.
 */
async function readMarks(page: Page, full: number): Promise<Marks> {
  // No named helper inside the page function: tsx compiles it with `__name(...)` wrappers the page lacks.
  const [snapshotMarks, stages] = await page.evaluate(
    ([names, prefix]) => [
      names.map((name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? null),
      performance.getEntriesByType('mark').filter((m) => m.name.startsWith(prefix)).map((m) => [m.name.slice(prefix.length), m.startTime] as [string, number]),
    ] as const,
    [['nephele:joined', 'nephele:first-link', `nephele:view:${full - 1}`, `nephele:view:${full}`], JOIN_MARK_PREFIX] as const,
  );
  const exact = new Map(stages);
  const pick = (stage: string, i: number): number | null => exact.get(stage) ?? snapshotMarks[i] ?? null;
  return { joined: pick('bootstrap', 0), firstLink: pick('link-up', 1), nearlyFull: pick(`view:${full - 1}`, 2), full: pick(`view:${full}`, 3), stages };
}

/** `hideCloud`: the arrival pages report themselves hidden once loaded (hidePage); newcomers stay visible. */
export async function browserJoinTimes(peers: number, newcomers = 0, hideCloud = false, tickMs = 1000, deadlineMs = 120_000): Promise<JoinFigures> {
  const server = await startCloudServer();
  const browser = await launchChromium();
  const pages: Page[] = [];
  const full = fullView(peers);
  const url = `${server.url}/?cloud=bench-join&tick=${tickMs}`;
  try {
    const { opened, openSeconds } = await openPeerPages(browser, url, peers, hideCloud);
    pages.push(...opened);
    const marks: (Marks | null)[] = pages.map(() => null);
    const deadline = Date.now() + deadlineMs;
    let readError: unknown = null;
    for (;;) {
      await Promise.all(pages.map(async (page, i) => {
        // A page can hold a full view from its bootstrap alone, before its first link: wait for both.
        if (marks[i]?.full != null && marks[i]?.firstLink != null) return;
        marks[i] = await readMarks(page, full).catch((err: unknown) => {
          readError = err;
          return marks[i] ?? null;
        });
      }));
      if (marks.every((m) => m?.full != null && m.firstLink != null) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    // A page that cannot be read is a broken bench, not a slow page: say so instead of reporting zeros.
    if (readError !== null && marks.every((m) => m?.joined == null)) throw readError;
    const reached = (key: Exclude<keyof Marks, 'stages'>): number[] => marks.flatMap((m) => (m?.[key] == null ? [] : [m[key]!]));
    const pageStages = marks.map((m) => new Map(m?.stages ?? []));
    const show = (ms: number | undefined): string => (ms === undefined ? '-' : ms.toFixed(0));
    for (const [i, m] of pageStages.entries()) console.log(`join bench page ${i}: bootstrap ${show(m.get('bootstrap'))}, first link ${show(m.get('link-up'))}, view:${full} ${show(m.get(`view:${full}`))} ms`);
    const figures: JoinFigures = {
      peers, hiddenCloud: hideCloud, deadlineMs, fullView: full, openSeconds, pageStages, newcomers: await newcomerJoins(browser, url, peers, newcomers),
      joinedMs: reached('joined'), firstLinkMs: reached('firstLink'), nearlyFullMs: reached('nearlyFull'), viewFullMs: reached('full'),
    };
    const late = marks.map((m, i) => (m?.full == null ? i : -1)).filter((i) => i >= 0);
    if (late.length > 0) console.log(`join bench: ${late.length}/${peers} pages without a view of ${full} after ${deadlineMs / 1000} s (pages ${late.join(', ')})`);
    return figures;
  } finally {
    await browser.close();
    await server.close();
  }
}

/**
 * Makes the page report itself hidden from now on (document.visibilityState, then a `visibilitychange`), as a
 * background tab would: its node sends it no snapshots and the portal does not render. Join marks still arrive.
 */
/** Opens `peers` app pages one after another, each in its own context (a peer), optionally reporting itself hidden. */
export async function openPeerPages(browser: Browser, url: string, peers: number, hidden: boolean): Promise<{ opened: Page[]; openSeconds: number }> {
  const opening = performance.now();
  const opened: Page[] = [];
  for (let i = 0; i < peers; i++) {
    const page = await (await newPeerContext(browser)).newPage();
    await page.goto(url).catch(() => page.goto(url));
    if (hidden) await hidePage(page);
    opened.push(page);
  }
  return { opened, openSeconds: (performance.now() - opening) / 1000 };
}

export async function hidePage(page: Page): Promise<void> {
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  }).catch(() => undefined);
}

export function fullView(peers: number): number {
  return peers - 1 > GOSSIP_VIEW_SIZE ? GOSSIP_VIEW_SIZE : Math.max(1, peers - 2);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface NewcomerFigures {
  /** Pages in the cloud each newcomer joins (the newcomer makes one more). */
  readonly cloudPages: number;
  readonly fullView: number;
  /** Per newcomer, the ms since its navigation at which it passed each join stage (see JoinFigures). */
  readonly pageStages: Map<string, number>[];
}

/**
 * Newcomers joining the cloud of `pages` after the arrival phase: one at a time, each closed again once it holds
 * a full view (or after `deadlineMs`), so each joins the same cloud. Unlike the arrival phase, where the first
 * pages cannot fill their views before enough later pages exist, this is issue #2's "each joins the cloud within
 * about a second".
 */
async function newcomerJoins(browser: Browser, url: string, pages: number, newcomers: number, deadlineMs = 20_000): Promise<NewcomerFigures> {
  const full = fullView(pages + 1);
  const pageStages: Map<string, number>[] = [];
  for (let i = 0; i < newcomers; i++) {
    const context = await newPeerContext(browser);
    let stages = new Map<string, number>();
    try {
      const page = await context.newPage();
      // On a saturated machine a navigation now and then aborts (net::ERR_ABORTED): try once more.
      await page.goto(url).catch(() => page.goto(url));
      const deadline = Date.now() + deadlineMs;
      while (Date.now() < deadline) {
        stages = await readMarks(page, full).then((m) => new Map(m.stages), () => stages);
        if (stages.has(`view:${full}`) && stages.has('link-up')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    } catch (err) {
      // A newcomer whose page did not even load counts as one that reached nothing.
      console.log(`join bench: newcomer ${i} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
    pageStages.push(stages);
    console.log(`join bench newcomer ${i}: ${stageLine(stages)}`);
    await context.close();
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { cloudPages: pages, fullView: full, pageStages };
}

/** One page's stages in the order passed, ms since navigation; of the view:n marks only the largest n. */
export function stageLine(stages: ReadonlyMap<string, number>): string {
  const views = [...stages.keys()].filter((s) => s.startsWith('view:')).map((s) => Number(s.slice(5)));
  const top = views.length > 0 ? `view:${Math.max(...views)}` : null;
  const shown = [...stages].filter(([s]) => !s.startsWith('view:') || s === top).sort((a, b) => a[1] - b[1]);
  return shown.length === 0 ? 'nothing (page not loaded)' : shown.map(([s, t]) => `${s} ${t.toFixed(0)}`).join(', ');
}

/** Chromium CPU of an idle cloud, by where it went (process type / thread name), in cores. */
export interface IdleCpuFigures {
  readonly peers: number;
  readonly seconds: number;
  /** Pages whose view was full when the measurement began. */
  readonly settled: number;
  readonly totalCores: number;
  readonly byThread: ReadonlyMap<string, number>;
  /** Frames each node sent per second during the measurement (median over pages; from the portal's link table). */
  readonly framesOutPerSecond: number;
  /** Links per page at the end (median). */
  readonly links: number;
}

/** A page's links and the frames its node sent over them, from the portal's connections card. */
async function readLinks(page: Page): Promise<{ links: number; framesOut: number }> {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll('[data-testid="connection"]')];
    const out = rows.reduce((sum, row) => sum + Number(row.querySelectorAll('td')[3]?.textContent ?? 0), 0);
    return { links: rows.length, framesOut: out };
  });
}

/**
 * What an idle cloud costs (issue #2 at 32 peers; every browser bench shares the machine with it): `peers`
 * contexts open the portal, get `settleMs` to join and fill their views, then the CPU time of every Chromium
 * thread (utime + stime from /proc, Linux only) is read before and after `seconds` of doing nothing.
 */
export async function browserIdleCpu(peers: number, seconds = 20, settleMs = 15_000, tickMs = 1000): Promise<IdleCpuFigures> {
  const server = await startCloudServer();
  const browser = await launchChromium();
  const full = fullView(peers);
  try {
    const pages: Page[] = [];
    for (let i = 0; i < peers; i++) {
      const page = await (await newPeerContext(browser)).newPage();
      await page.goto(`${server.url}/?cloud=bench-idle&tick=${tickMs}`);
      pages.push(page);
    }
    await new Promise((r) => setTimeout(r, settleMs));
    const views = await Promise.all(pages.map((page) => readMarks(page, full).then((m) => m.full !== null, () => false)));
    const linksBefore = await Promise.all(pages.map((page) => readLinks(page).catch(() => null)));
    const before = chromiumCpuTicks();
    const started = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = chromiumCpuTicks();
    const elapsed = (performance.now() - started) / 1000;
    const linksAfter = await Promise.all(pages.map((page) => readLinks(page).catch(() => null)));
    // A link that closed meanwhile takes its counter with it: such a page's rate is a lower bound, good enough here.
    const rates = linksAfter.flatMap((a, i) => (a && linksBefore[i] ? [Math.max(0, a.framesOut - linksBefore[i]!.framesOut) / elapsed] : []));
    const byThread = new Map<string, number>();
    for (const [key, ticks] of after) {
      const used = (ticks - (before.get(key) ?? 0)) / CLOCK_TICKS_PER_SECOND / elapsed;
      if (used > 0) byThread.set(key, used);
    }
    const totalCores = [...byThread.values()].reduce((sum, c) => sum + c, 0);
    const links = linksAfter.flatMap((a) => (a ? [a.links] : []));
    return { peers, seconds: elapsed, settled: views.filter(Boolean).length, totalCores, byThread, framesOutPerSecond: median(rates), links: median(links) };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** USER_HZ: /proc reports CPU time in these (100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

