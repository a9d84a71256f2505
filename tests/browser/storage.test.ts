/**
 * Storage in real Chromium peers (one browser context each): a file put from one peer is fetched by link from
 * another after the uploader closed, then again after two more peers closed; a reloaded peer still holds its
 * chunks (IndexedDB); peers opened with the `?storageCorrupt=1` test hook serve corrupted chunks, which getters
 * refuse and fetch elsewhere. File size: NEPHELE_STORAGE_MIB (default 20).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { numberOf, openPeer, pageDiagnosis, waitUntil, useCloudAndBrowser, type PeerTab } from './harness.ts';

const PEERS = 8;
const MIB = Number(process.env.NEPHELE_STORAGE_MIB ?? 20);

const env = useCloudAndBrowser();

function fileBytes(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function getByLink(page: Page, link: string): Promise<string> {
  await page.getByTestId('storage-get-link').fill(link);
  await page.getByTestId('storage-get').click();
  await waitUntil(async () => (await page.getByTestId('storage-download').count()) > 0 || (await page.getByTestId('storage-get-error').count()) > 0, 120_000, 'download ready');
  if ((await page.getByTestId('storage-get-error').count()) > 0) throw new Error(`get failed: ${await page.getByTestId('storage-get-error').textContent()}`);
  // Download it as a user would (the page's CSP does not let scripts fetch blob: URLs) and hash the file.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('storage-download').click()]);
  const path = await download.path();
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

describe('storage across real browser peers', () => {
  it('puts a file, survives the uploader and two holders leaving, keeps chunks over a reload, refuses tampered chunks', async () => {
    const url = `${env.server.url}/?cloud=storage&tick=300`;
    const peers: PeerTab[] = [];
    for (let i = 0; i < PEERS; i++) peers.push(await openPeer(env.browser, url));
    for (const p of peers) {
      await waitUntil(async () => (await numberOf(p.page, 'storage-successors')) >= 3, 60_000, `ring formed at ${p.peerId.slice(0, 8)}`, () => pageDiagnosis(p.page));
    }
    // Let stabilisation settle a few rounds so placement uses the final ring.
    await new Promise((r) => setTimeout(r, 3000));

    const bytes = fileBytes(MIB * 1024 * 1024);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const [uploader, getter, gone1, gone2, later, reloaded, bad1, bad2] = peers as [PeerTab, PeerTab, PeerTab, PeerTab, PeerTab, PeerTab, PeerTab, PeerTab];
    const started = Date.now();
    await uploader.page.getByTestId('storage-file').setInputFiles({ name: 'data.bin', mimeType: 'application/octet-stream', buffer: bytes });
    await uploader.page.getByTestId('storage-put').click();
    await waitUntil(async () => (await uploader.page.getByTestId('storage-link').count()) > 0 || (await uploader.page.getByTestId('storage-put-error').count()) > 0, 120_000, 'link shown');
    const link = ((await uploader.page.getByTestId('storage-link').textContent()) ?? '').trim();
    expect(link).toMatch(/^nephele:\/\/[0-9a-f]{64}#k=[A-Za-z0-9_-]+$/);
    console.log(`put ${MIB} MiB in ${Date.now() - started} ms`);
    await uploader.context.close();

    const t1 = Date.now();
    expect(await getByLink(getter.page, link)).toBe(sha);
    console.log(`got ${MIB} MiB in ${Date.now() - t1} ms`);

    await gone1.context.close();
    await gone2.context.close();
    expect(await getByLink(later.page, link)).toBe(sha);

    const heldBefore = await numberOf(reloaded.page, 'storage-chunks');
    await reloaded.page.reload();
    expect(heldBefore).toBeGreaterThan(0);
    // Everything held before is still held (IndexedDB); re-replication may have added more meanwhile.
    await waitUntil(async () => (await numberOf(reloaded.page, 'storage-chunks')) >= heldBefore, 30_000, 'chunks still held after reload');

    for (const bad of [bad1, bad2]) {
      await bad.page.goto(`${url}&storageCorrupt=1`);
      await waitUntil(async () => (await bad.page.getByTestId('storage-corrupting').count()) > 0, 30_000, 'corruption hook on');
    }
    await new Promise((r) => setTimeout(r, 2000));
    expect(await getByLink(getter.page, link)).toBe(sha);
    // A newcomer holds (almost) no chunks, so it fetches nearly all of them from holders, a third of which lie:
    // it must refuse some tampered copies and still assemble the right bytes.
    const newcomer = await openPeer(env.browser, url);
    await waitUntil(async () => (await numberOf(newcomer.page, 'storage-successors')) >= 3, 60_000, 'newcomer on the ring', async () => {
      const pages = [newcomer, getter, later, reloaded, bad1, bad2];
      return (await Promise.all(pages.map((p) => pageDiagnosis(p.page, 25)))).join('\n---\n');
    });
    expect(await getByLink(newcomer.page, link)).toBe(sha);
    expect(await numberOf(newcomer.page, 'storage-refused')).toBeGreaterThan(0);
  });
});
