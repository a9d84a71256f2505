/**
 * A peer keeps its identity across reloads (Ed25519 key in IndexedDB), and where SharedWorker is missing the
 * node runs in a dedicated Worker and still joins and links.
 */
import { describe, expect, it } from 'vitest';
import {
  connectedPeers, newPeerContext, numberOf, openPeer, openTab, waitUntil, useCloudAndBrowser,
} from './harness.ts';

const env = useCloudAndBrowser();

describe('identity', () => {
  it('is the same after a reload and differs between profiles', async () => {
    const url = `${env.server.url}/?cloud=identity&tick=500`;
    const a = await openPeer(env.browser, url);
    const b = await openPeer(env.browser, url);
    expect(a.peerId).not.toBe(b.peerId);
    await waitUntil(async () => (await connectedPeers(b.page)).includes(a.peerId), 30_000, 'b linked to a');
    await a.page.reload();
    await waitUntil(async () => /^[0-9a-f]{40}$/.test((await a.page.getByTestId('peer-id').textContent()) ?? ''), 20_000, 'peer id after reload');
    expect((await a.page.getByTestId('peer-id').textContent())?.trim()).toBe(a.peerId);
    // The reloaded peer is admitted again under the same id and links up again.
    await waitUntil(async () => (await numberOf(a.page, 'connection-count')) >= 1, 30_000, 'relinked after reload');
    await a.context.close();
    await b.context.close();
  });
});

describe('dedicated Worker fallback', () => {
  it('runs the node in a dedicated Worker where SharedWorker is missing', async () => {
    const url = `${env.server.url}/?cloud=fallback&tick=500`;
    const other = await openPeer(env.browser, url);
    const context = await newPeerContext(env.browser);
    await context.addInitScript(() => {
      delete (globalThis as { SharedWorker?: unknown }).SharedWorker;
    });
    const tab = await openTab(context, url);
    expect(await tab.page.evaluate(() => typeof SharedWorker)).toBe('undefined');
    await waitUntil(async () => (await tab.page.getByTestId('signaling-state').textContent())?.trim() === 'joined', 20_000, 'fallback node joined');
    await waitUntil(async () => (await connectedPeers(tab.page)).includes(other.peerId), 30_000, 'fallback node linked');
    await context.close();
    await other.context.close();
  });
});
