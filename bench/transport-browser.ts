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
 */
import type { Page } from 'playwright-core';
import { launchChromium, newPeerContext, startCloudServer } from '../tests/browser/harness.ts';
import { GOSSIP_VIEW_SIZE } from '../src/runtime/gossip-slots.ts';

export interface JoinFigures {
  readonly peers: number;
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
}

type Marks = { joined: number | null; firstLink: number | null; nearlyFull: number | null; full: number | null };

async function readMarks(page: Page, full: number): Promise<Marks> {
  // No named helper inside the page function: tsx compiles it with `__name(...)` wrappers the page lacks.
  const [joined, firstLink, nearlyFull, fullAt] = await page.evaluate(
    (names) => names.map((name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? null),
    ['nephele:joined', 'nephele:first-link', `nephele:view:${full - 1}`, `nephele:view:${full}`],
  );
  return { joined: joined ?? null, firstLink: firstLink ?? null, nearlyFull: nearlyFull ?? null, full: fullAt ?? null };
}

export async function browserJoinTimes(peers: number, tickMs = 1000, deadlineMs = 120_000): Promise<JoinFigures> {
  const server = await startCloudServer();
  const browser = await launchChromium();
  const pages: Page[] = [];
  const full = fullView(peers);
  try {
    const opening = performance.now();
    for (let i = 0; i < peers; i++) {
      const page = await (await newPeerContext(browser)).newPage();
      await page.goto(`${server.url}/?cloud=bench-join&tick=${tickMs}`);
      pages.push(page);
    }
    const openSeconds = (performance.now() - opening) / 1000;
    const marks: (Marks | null)[] = pages.map(() => null);
    const deadline = Date.now() + deadlineMs;
    let readError: unknown = null;
    for (;;) {
      await Promise.all(pages.map(async (page, i) => {
        if (marks[i]?.full != null) return;
        marks[i] = await readMarks(page, full).catch((err: unknown) => {
          readError = err;
          return marks[i] ?? null;
        });
      }));
      if (marks.every((m) => m?.full != null) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    // A page that cannot be read is a broken bench, not a slow page: say so instead of reporting zeros.
    if (readError !== null && marks.every((m) => m?.joined == null)) throw readError;
    const reached = (key: keyof Marks): number[] => marks.flatMap((m) => (m?.[key] == null ? [] : [m[key]!]));
    const figures: JoinFigures = {
      peers, deadlineMs, fullView: full, openSeconds,
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
