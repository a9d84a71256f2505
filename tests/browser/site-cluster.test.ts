/**
 * Site clustering (UCComp) across four real Chromium peers (`?tick=300`), read from what each page's Cloud panel
 * shows: three peers opened one after another with `?site=lab` and one with `?site=annex`. Every lab page shows
 * the same head — the lab peer up the longest, the first opened — and three lab peers; the annex peer is alone and
 * its own head. When the head's browser closes, the two remaining lab pages agree on the next longest-up peer as
 * head, and that page says it is the head.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPeer, waitUntil, useCloudAndBrowser, type PeerTab } from './harness.ts';

const env = useCloudAndBrowser();

interface SiteShown {
  readonly label: string;
  readonly head: string;
  readonly isHead: boolean;
  readonly members: number;
}

async function siteShown(page: Page): Promise<SiteShown> {
  const head = page.getByTestId('cloud-site-head');
  return {
    label: ((await page.getByTestId('cloud-site').textContent()) ?? '').trim(),
    head: (await head.getAttribute('data-peer')) ?? '',
    isHead: (await head.getAttribute('data-head')) === 'true',
    members: Number(await head.getAttribute('data-members')),
  };
}

const describeAll = async (tabs: readonly PeerTab[]): Promise<string> =>
  (await Promise.all(tabs.map(async (t) => `${t.peerId.slice(0, 8)}: ${JSON.stringify(await siteShown(t.page))}`))).join('\n');

describe('site clustering across real browser peers', () => {
  it('the longest-up peer of a site is its head on every page of the site, and another takes over when it leaves', async () => {
    const url = (site: string): string => `${env.server.url}/?cloud=sites&tick=300&site=${site}`;
    // One after another, so their uptimes differ by whole seconds (the unit uptimes are gossiped in).
    const lab: PeerTab[] = [];
    for (let i = 0; i < 3; i++) {
      lab.push(await openPeer(env.browser, url('lab')));
      await new Promise((r) => setTimeout(r, 1500));
    }
    const annex = await openPeer(env.browser, url('annex'));
    const [first, second, third] = lab;

    await waitUntil(async () => {
      const shown = await Promise.all(lab.map((t) => siteShown(t.page)));
      return shown.every((s) => s.label === 'lab' && s.members === 3 && s.head === first!.peerId);
    }, 45_000, 'every lab page shows the first lab peer as head of 3', () => describeAll([...lab, annex]));
    expect((await siteShown(first!.page)).isHead).toBe(true);
    expect((await siteShown(second!.page)).isHead).toBe(false);
    expect((await siteShown(third!.page)).isHead).toBe(false);
    // The annex page applies its `?site=` a moment after it joins: wait for it rather than read it once.
    await waitUntil(async () => (await siteShown(annex.page)).label === 'annex', 20_000, 'annex page shows its site', () => describeAll([annex]));
    expect(await siteShown(annex.page)).toEqual({ label: 'annex', head: annex.peerId, isHead: true, members: 1 });

    // The head leaves: the next longest-up lab peer (the second opened) takes over, on both remaining pages.
    await first!.context.close();
    const rest = [second!, third!];
    await waitUntil(async () => {
      const shown = await Promise.all(rest.map((t) => siteShown(t.page)));
      return shown.every((s) => s.members === 2 && s.head === second!.peerId);
    }, 45_000, 'the second lab peer is head of the 2 remaining', () => describeAll(rest));
    expect((await siteShown(second!.page)).isHead).toBe(true);
    expect((await siteShown(third!.page)).isHead).toBe(false);
  }, 90_000);
});
