/**
 * The spine end to end in real Chromium: eight browser contexts (eight peers) join one cloud over loopback
 * WebRTC, their gossip views fill, a WASI job submitted in one runs on another, an endless job is killed at its
 * limit, and a headless Node peer joins the same cloud.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  connectedPeers, launchChromium, numberOf, openPeer, spawnNodePeer, startCloudServer, viewPeers, waitUntil,
  type CloudServer, type NodePeerProcess, type PeerTab,
} from './harness.ts';

const PEERS = 8;
let server: CloudServer;
let browser: Browser;
let peers: PeerTab[] = [];
let nodePeer: NodePeerProcess | null = null;

beforeAll(async () => {
  server = await startCloudServer();
  browser = await launchChromium();
  const url = `${server.url}/?cloud=spine&tick=500`;
  peers = await Promise.all(Array.from({ length: PEERS }, () => openPeer(browser, url)));
});

afterAll(async () => {
  await nodePeer?.stop();
  await browser?.close();
  await server?.close();
});

describe('eight browser peers', () => {
  it('each joins, links up and fills its gossip view', async () => {
    const ids = new Set(peers.map((p) => p.peerId));
    expect(ids.size).toBe(PEERS);
    for (const peer of peers) {
      await waitUntil(async () => (await peer.page.getByTestId('signaling-state').textContent())?.trim() === 'joined', 20_000, `${peer.peerId} joined`);
    }
    for (const peer of peers) {
      await waitUntil(async () => (await numberOf(peer.page, 'connection-count')) >= 1, 30_000, `${peer.peerId} has a link`);
      await waitUntil(async () => (await viewPeers(peer.page)).length >= 4, 45_000, `${peer.peerId} view has ≥ 4 peers`);
      const view = await viewPeers(peer.page);
      expect(view).not.toContain(peer.peerId);
      for (const entry of view) expect(ids.has(entry)).toBe(true);
    }
  });

  it('runs a WASI job submitted in one peer on a different peer', async () => {
    const submitter = peers[0]!;
    const page = submitter.page;
    await page.getByTestId('example-select').selectOption('hello.wasm');
    await page.getByTestId('job-args').fill('from nephele');
    await page.getByTestId('submit-job').click();
    const job = page.getByTestId('job').first();
    await waitUntil(async () => (await job.getAttribute('data-state')) === 'done', 60_000, 'hello job done');
    const host = ((await job.getByTestId('job-host').textContent()) ?? '').trim();
    expect(host).not.toBe(submitter.peerId);
    expect(peers.map((p) => p.peerId)).toContain(host);
    expect((await job.getByTestId('job-exit-code').textContent())?.trim()).toBe('0');
    expect(await job.getByTestId('job-stdout').textContent()).toContain('from nephele');
    const hostPage = peers.find((p) => p.peerId === host)!.page;
    // The host's snapshot (and so its log) reaches its page a moment after the submitter sees the result.
    await waitUntil(async () => ((await hostPage.getByTestId('event-log').textContent()) ?? '').includes(`for ${submitter.peerId.slice(0, 8)}`), 10_000, 'host logs whom it ran the job for');
  });

  it('kills a job that loops forever at its time limit, with a clear error', async () => {
    const page = peers[1]!.page;
    await page.getByTestId('example-select').selectOption('loop.wasm');
    await page.getByTestId('job-time-limit').fill('2');
    await page.getByTestId('submit-job').click();
    const job = page.getByTestId('job').first();
    await waitUntil(async () => (await job.getAttribute('data-state')) === 'failed', 60_000, 'loop job failed');
    expect(await job.getByTestId('job-error').textContent()).toContain('E_TIME_LIMIT');
  });

  it('admits a headless Node peer to the same cloud', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nephele-peer-'));
    nodePeer = await spawnNodePeer(server.wsUrl, join(dir, 'identity.json'), ['--cloud', 'spine']);
    const nodeId = nodePeer.peerId;
    await waitUntil(async () => {
      for (const peer of peers) {
        if ((await connectedPeers(peer.page)).includes(nodeId) || (await viewPeers(peer.page)).includes(nodeId)) return true;
      }
      return false;
    }, 45_000, 'a browser peer links to or gossips about the Node peer');
  });
});
