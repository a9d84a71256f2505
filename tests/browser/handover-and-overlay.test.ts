/**
 * A node outlives the tab holding its connections (another tab of the profile takes the edge over, same identity
 * and state), and the overlay outlives the signaling server (new links are signaled through existing ones).
 */
import { describe, expect, it } from 'vitest';
import {
  connectedPeers, newPeerContext, numberOf, openPeer, openTab, waitUntil, useCloudAndBrowser,
  type PeerTab,
} from './harness.ts';

const env = useCloudAndBrowser();

describe('connection holder handover', () => {
  it('keeps the node alive in another tab when the connection-holding tab closes', async () => {
    const url = `${env.server.url}/?cloud=handover&tick=500`;
    const others = await Promise.all([openPeer(env.browser, url), openPeer(env.browser, url)]);
    const context = await newPeerContext(env.browser);
    const first = await openTab(context, url);
    await waitUntil(async () => (await first.page.evaluate(() => document.documentElement.dataset.edgeHolder)) === 'true', 20_000, 'first tab holds the edge');
    const second = await openTab(context, url);
    expect(second.peerId).toBe(first.peerId);
    await waitUntil(async () => (await numberOf(second.page, 'tab-count')) === 2, 10_000, 'node sees two tabs');
    await waitUntil(async () => (await numberOf(second.page, 'connection-count')) >= 1, 30_000, 'node linked');
    expect(await second.page.evaluate(() => document.documentElement.dataset.edgeHolder)).toBeUndefined();

    await first.page.close();
    await waitUntil(async () => (await second.page.evaluate(() => document.documentElement.dataset.edgeHolder)) === 'true', 20_000, 'second tab took the edge over');
    await waitUntil(async () => (await numberOf(second.page, 'tab-count')) === 1, 10_000, 'node counts one tab');
    await waitUntil(async () => (await numberOf(second.page, 'connection-count')) >= 1, 30_000, 'node linked again');
    expect((await second.page.getByTestId('peer-id').textContent())?.trim()).toBe(first.peerId);
    // State survived: the log still holds the node's start, from before the handover, and records the handover.
    const log = (await second.page.getByTestId('event-log').textContent()) ?? '';
    expect(log).toContain('started in cloud "handover"');
    expect(log).toMatch(/connection-holding tab (closed|changed)/);
    for (const other of others) await other.context.close();
    await context.close();
  });
});

describe('life after the signaling server', () => {
  it('opens new links through the overlay once the server is gone', async () => {
    // A small link cap makes gossip keep opening links to peers it is not yet linked to.
    const url = `${env.server.url}/?cloud=overlay&tick=400&maxConnections=3`;
    const peers: PeerTab[] = [];
    for (let i = 0; i < 6; i++) peers.push(await openPeer(env.browser, url));
    for (const p of peers) await waitUntil(async () => (await numberOf(p.page, 'connection-count')) >= 1, 30_000, 'linked');

    const pairs = async (): Promise<Set<string>> => {
      const out = new Set<string>();
      for (const p of peers) for (const q of await connectedPeers(p.page)) out.add([p.peerId, q].sort().join('-'));
      return out;
    };
    await env.server.close();
    for (const p of peers) {
      await waitUntil(async () => (await p.page.getByTestId('signaling-state').textContent())?.trim() !== 'joined', 20_000, 'signaling gone');
    }
    const before = await pairs();
    let fresh: string[] = [];
    await waitUntil(async () => {
      fresh = [...(await pairs())].filter((pair) => !before.has(pair));
      return fresh.length > 0;
    }, 60_000, 'a link between two peers that were not linked when the server stopped');
    expect(fresh.length).toBeGreaterThan(0);
    for (const p of peers) expect(await numberOf(p.page, 'view-size')).toBeGreaterThan(0);
  });
});
