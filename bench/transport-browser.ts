/**
 * Join time in real Chromium: `peers` browser contexts (fresh peers) open the page served by the real server,
 * one after another. Each page marks its own milestones on its performance timeline (see src/main.ts), so the
 * figures are "ms since that page's navigation began": joined at the server, first authenticated link, and a
 * full gossip view. "Full" is the view size when the cloud is larger than the view; in a smaller cloud it is
 * peers − 2, because a Cyclon node takes its shuffle partner out of its view during each exchange, so its view
 * never reliably holds all peers − 1 others at once.
 */
import type { Page } from 'playwright-core';
import { launchChromium, newPeerContext, startCloudServer, waitUntil } from '../tests/browser/harness.ts';
import { GOSSIP_VIEW_SIZE } from '../src/runtime/gossip-slots.ts';

export interface JoinFigures {
  readonly joinedMs: number[];
  readonly firstLinkMs: number[];
  readonly viewFullMs: number[];
}

async function markTime(page: Page, name: string): Promise<number | null> {
  return page.evaluate((n) => performance.getEntriesByName(n, 'mark')[0]?.startTime ?? null, name);
}

export async function browserJoinTimes(peers: number, tickMs = 1000): Promise<JoinFigures> {
  const server = await startCloudServer();
  const browser = await launchChromium();
  const pages: Page[] = [];
  const full = `nephele:view:${fullView(peers)}`;
  try {
    for (let i = 0; i < peers; i++) {
      const page = await (await newPeerContext(browser)).newPage();
      await page.goto(`${server.url}/?cloud=bench-join&tick=${tickMs}`);
      pages.push(page);
    }
    const figures: JoinFigures = { joinedMs: [], firstLinkMs: [], viewFullMs: [] };
    for (const page of pages) {
      await waitUntil(async () => (await markTime(page, full)) !== null, 120_000, `${full} on every page`);
      figures.joinedMs.push((await markTime(page, 'nephele:joined'))!);
      figures.firstLinkMs.push((await markTime(page, 'nephele:first-link'))!);
      figures.viewFullMs.push((await markTime(page, full))!);
    }
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
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
