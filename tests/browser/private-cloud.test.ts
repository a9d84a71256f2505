/**
 * Private clouds: the server refuses a wrong secret, and — since a server may be rogue — peers check the secret
 * again on every link, so an outsider that a permissive server lets in still gets no link.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, numberOf, openPeer, startCloudServer, waitUntil, type CloudServer } from './harness.ts';

let browser: Browser;
const servers: CloudServer[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
});

describe('private cloud', () => {
  it('the signaling server refuses a peer with the wrong secret and admits the right one', async () => {
    const server = await startCloudServer({ lab: { secret: 'correct horse' } });
    servers.push(server);
    const good = await openPeer(browser, `${server.url}/?cloud=lab#secret=${encodeURIComponent('correct horse')}`);
    const bad = await openPeer(browser, `${server.url}/?cloud=lab#secret=wrong`);
    await waitUntil(async () => (await good.page.getByTestId('signaling-state').textContent())?.trim() === 'joined', 20_000, 'good peer joined');
    await waitUntil(async () => (await bad.page.getByTestId('signaling-state').textContent())?.trim() === 'refused', 20_000, 'bad peer refused');
    expect(await bad.page.getByTestId('event-log').textContent()).toContain('E_BAD_PROOF');
  });

  it('peers refuse an outsider even when the server lets it in', async () => {
    // This server does not know the cloud is private: it stands in for a rogue or misconfigured server.
    const server = await startCloudServer();
    servers.push(server);
    const url = (secret: string): string => `${server.url}/?cloud=lab#secret=${secret}`;
    const a = await openPeer(browser, url('s3cret'));
    const b = await openPeer(browser, url('s3cret'));
    await waitUntil(async () => (await numberOf(a.page, 'connection-count')) >= 1 && (await numberOf(b.page, 'connection-count')) >= 1, 30_000, 'insiders linked');
    const outsider = await openPeer(browser, url('guess'));
    await waitUntil(async () => (await outsider.page.getByTestId('event-log').textContent())?.includes('E_LINK_BAD_PROOF') ?? false, 30_000, 'outsider refused by peers');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await numberOf(outsider.page, 'connection-count')).toBe(0);
  });
});
