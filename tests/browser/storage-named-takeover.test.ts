/**
 * Named-object index takeover in real Chromium peers (one browser context each): two peers write versions 1 and 2
 * of a name; the tab that is the name's index node (the one whose storage panel lists the name as indexed) is
 * closed; once the ring has healed around it, a read from another peer still returns version 2's bytes, the next
 * write gets version 3, a read returns version 3's bytes, and exactly one surviving peer indexes the name with
 * the linear history 1,2,3 (the successor took the chain over from the copy the old index published to it).
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { connectedPeers, numberOf, openPeer, pageDiagnosis, waitUntil, useCloudAndBrowser, type PeerTab } from './harness.ts';

const PEERS = 5;
const NAME = 'team/takeover';
const TEXT = ['first version', 'second version', 'third version'] as const;

const env = useCloudAndBrowser();

async function diagnosis(peers: readonly PeerTab[]): Promise<string> {
  const parts = await Promise.all(peers.map(async (p) => `${await pageDiagnosis(p.page, 25)}\nindexed: ${JSON.stringify(await indexedHere(p.page))}`));
  return parts.join('\n---\n');
}

/** The history this page's node shows for NAME if it indexes it (null if it does not). */
async function indexedHere(page: Page): Promise<string | null> {
  const h = await page.locator(`[data-testid="storage-named-indexed"][data-name="${NAME}"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-history')));
  return h[0] ?? null;
}

/** Clicks a named-object button and returns what the panel shows (or throws the panel's error). */
async function settled(page: Page, button: string, testId: string, peers: readonly PeerTab[]): Promise<string> {
  await page.getByTestId(button).click();
  await waitUntil(
    async () => (await page.getByTestId(testId).count()) > 0 || (await page.getByTestId('storage-named-error').count()) > 0,
    60_000, `${testId} shown`, () => diagnosis(peers),
  );
  if ((await page.getByTestId('storage-named-error').count()) > 0) {
    throw new Error(`named object failed: ${await page.getByTestId('storage-named-error').textContent()}\n${await diagnosis(peers)}`);
  }
  return ((await page.getByTestId(testId).textContent()) ?? '').trim();
}

async function write(p: PeerTab, text: string, peers: readonly PeerTab[]): Promise<number> {
  await p.page.getByTestId('storage-named-name').fill(NAME);
  await p.page.getByTestId('storage-named-value').fill(text);
  return Number(await settled(p.page, 'storage-named-write', 'storage-named-written', peers));
}

async function read(p: PeerTab, peers: readonly PeerTab[]): Promise<{ text: string; version: string | null }> {
  await p.page.getByTestId('storage-named-name').fill(NAME);
  const text = await settled(p.page, 'storage-named-read', 'storage-named-text', peers);
  return { text, version: await p.page.getByTestId('storage-named-result').getAttribute('data-version') };
}

async function indexNodes(peers: readonly PeerTab[]): Promise<{ tab: PeerTab; history: string }[]> {
  const found = await Promise.all(peers.map(async (tab) => ({ tab, history: await indexedHere(tab.page) })));
  return found.filter((f): f is { tab: PeerTab; history: string } => f.history !== null);
}

describe('named-object index takeover across real browser peers', () => {
  it('the index tab closes after v2; the successor takes the index over, reads return v2 and the next write is v3', async () => {
    const url = `${env.server.url}/?cloud=named-takeover&tick=300`;
    const peers: PeerTab[] = [];
    for (let i = 0; i < PEERS; i++) peers.push(await openPeer(env.browser, url));
    for (const p of peers) {
      await waitUntil(async () => (await numberOf(p.page, 'storage-successors')) >= 3, 60_000, `ring formed at ${p.peerId.slice(0, 8)}`, () => pageDiagnosis(p.page));
    }
    await new Promise((r) => setTimeout(r, 3000));

    expect(await write(peers[0]!, TEXT[0], peers)).toBe(1);
    let index: { tab: PeerTab; history: string }[] = [];
    await waitUntil(async () => (index = await indexNodes(peers)).length === 1 && index[0]!.history === '1', 10_000, 'one index node with history 1', () => diagnosis(peers));
    const indexTab = index[0]!.tab;
    const others = peers.filter((p) => p !== indexTab);
    expect(await write(others[0]!, TEXT[1], peers)).toBe(2);
    await waitUntil(async () => (index = await indexNodes(peers)).length === 1 && index[0]!.history === '1,2', 10_000, 'the index shows history 1,2', () => diagnosis(peers));
    // The index publishes its chain to its successors as each change happens; give those copies a moment to land.
    await new Promise((r) => setTimeout(r, 2000));

    await indexTab.context.close();
    for (const p of others) {
      await waitUntil(
        async () => !(await connectedPeers(p.page)).includes(indexTab.peerId) && (await numberOf(p.page, 'storage-successors')) >= 3,
        60_000, `ring healed without ${indexTab.peerId.slice(0, 8)} at ${p.peerId.slice(0, 8)}`, () => diagnosis(others),
      );
    }

    const [reader, writer, lastReader] = [others[1]!, others[2]!, others[3]!];
    expect(await read(reader, others)).toEqual({ text: TEXT[1], version: '2' });
    expect(await write(writer, TEXT[2], others)).toBe(3);
    expect(await read(lastReader, others)).toEqual({ text: TEXT[2], version: '3' });

    // One linear history on exactly one surviving index node, which took the chain over.
    await waitUntil(async () => (index = await indexNodes(others)).length === 1 && index[0]!.history === '1,2,3', 10_000, 'one index with history 1,2,3', () => diagnosis(others));
    expect(await index[0]!.tab.page.getByText(/named-object index(es)? taken over/).count()).toBeGreaterThan(0);
  });
});
