/**
 * Mutable named objects in real Chromium peers (one browser context each): four peers write one name at the same
 * moment through the storage panel; the versions they are given are exactly 1..4 (one linear history, as the
 * index node's history shows), and a read from every peer returns version 4 with the value its writer wrote.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { numberOf, openPeer, waitUntil, useCloudAndBrowser, type PeerTab } from './harness.ts';

const PEERS = 4;
const NAME = 'team/notes';

const env = useCloudAndBrowser();

async function settled(page: Page, testId: string): Promise<string> {
  await waitUntil(async () => (await page.getByTestId(testId).count()) > 0 || (await page.getByTestId('storage-named-error').count()) > 0, 60_000, `${testId} shown`);
  if ((await page.getByTestId('storage-named-error').count()) > 0) throw new Error(`named object failed: ${await page.getByTestId('storage-named-error').textContent()}`);
  return ((await page.getByTestId(testId).textContent()) ?? '').trim();
}

describe('named objects across real browser peers', () => {
  it('four concurrent writers get versions 1..4 and every peer reads the newest', async () => {
    const url = `${env.server.url}/?cloud=named&tick=300`;
    const peers: PeerTab[] = [];
    for (let i = 0; i < PEERS; i++) peers.push(await openPeer(env.browser, url));
    for (const p of peers) {
      await waitUntil(async () => (await numberOf(p.page, 'storage-successors')) >= PEERS - 1, 60_000, `ring formed at ${p.peerId.slice(0, 8)}`);
    }
    await new Promise((r) => setTimeout(r, 3000));

    for (const [i, p] of peers.entries()) {
      await p.page.getByTestId('storage-named-name').fill(NAME);
      await p.page.getByTestId('storage-named-value').fill(`note from peer ${i}`);
    }
    await Promise.all(peers.map((p) => p.page.getByTestId('storage-named-write').click()));
    const versions = await Promise.all(peers.map(async (p) => Number(await settled(p.page, 'storage-named-written'))));
    expect([...versions].sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
    const newestWriter = versions.indexOf(4);

    // Exactly one peer indexes the object, with one linear history (its page shows it a snapshot after the commit).
    const histories = async (): Promise<(string | null)[]> => (await Promise.all(peers.map((p) => p.page.locator(`[data-testid="storage-named-indexed"][data-name="${NAME}"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-history')))))).flat();
    await waitUntil(async () => (await histories()).join('|') === '1,2,3,4', 10_000, 'one index with history 1,2,3,4', async () => JSON.stringify(await histories()));

    for (const p of peers) {
      await p.page.getByTestId('storage-named-read').click();
      expect(await settled(p.page, 'storage-named-text')).toBe(`note from peer ${newestWriter}`);
      expect(await p.page.getByTestId('storage-named-result').getAttribute('data-version')).toBe('4');
    }
  });
});
