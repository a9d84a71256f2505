/**
 * Storage figures from real Chromium peers (one browser context each, the built app served by the real server,
 * loopback only): Chord lookup latency timed inside each node (the storage panel's "Time 50 lookups"), and the
 * wall time of putting a file through the panel (read, chunk, encrypt, 3 replicas) and getting it back by link
 * on another peer, from the click until the link or the download is shown.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startSignalingServer } from '../signaling/server.ts';
import { launchChromium, numberOf, openPeer, waitUntil, type PeerTab } from '../tests/browser/harness.ts';

export interface StorageBrowserFigures {
  /** Every lookup's latency from every peer (ms). */
  readonly lookupMs: number[];
  readonly putSeconds: number;
  readonly getSeconds: number;
  readonly bytes: number;
}

const MiB = 1024 * 1024;

async function shown(page: Page, okId: string, errorId: string, timeoutMs: number): Promise<void> {
  await page.locator(`[data-testid="${okId}"], [data-testid="${errorId}"]`).first().waitFor({ timeout: timeoutMs });
  if ((await page.getByTestId(errorId).count()) > 0) throw new Error(`${errorId}: ${await page.getByTestId(errorId).textContent()}`);
}

export async function browserStorageFigures(peers: number, mib: number): Promise<StorageBrowserFigures> {
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: 'dist', maxConnectionsPerAddress: 256 });
  const browser = await launchChromium();
  const dir = await mkdtemp(join(tmpdir(), 'nephele-storage-bench-'));
  try {
    const url = `${server.url}/?cloud=bench-storage&tick=300`;
    const tabs: PeerTab[] = [];
    for (let i = 0; i < peers; i++) tabs.push(await openPeer(browser, url));
    for (const t of tabs) {
      await waitUntil(async () => (await numberOf(t.page, 'storage-successors')) >= Math.min(3, peers - 1), 90_000, `ring at ${t.peerId.slice(0, 8)}`);
    }
    await new Promise((r) => setTimeout(r, 3000));

    const lookupMs: number[] = [];
    for (const t of tabs) {
      await t.page.getByTestId('storage-probe-lookups').click();
      await t.page.getByTestId('storage-lookup-ms').waitFor({ timeout: 120_000 });
      lookupMs.push(...(JSON.parse((await t.page.getByTestId('storage-lookup-ms').getAttribute('data-ms')) ?? '[]') as number[]));
    }

    const bytes = mib * MiB;
    const path = join(dir, 'bench.bin');
    await writeFile(path, randomBytes(bytes));
    const putter = tabs[0]!.page;
    await putter.getByTestId('storage-file').setInputFiles(path);
    let t0 = performance.now();
    await putter.getByTestId('storage-put').click();
    await shown(putter, 'storage-link', 'storage-put-error', 600_000);
    const putSeconds = (performance.now() - t0) / 1000;
    const link = ((await putter.getByTestId('storage-link').textContent()) ?? '').trim();

    const getter = tabs[tabs.length - 1]!.page;
    await getter.getByTestId('storage-get-link').fill(link);
    t0 = performance.now();
    await getter.getByTestId('storage-get').click();
    await shown(getter, 'storage-download', 'storage-get-error', 600_000);
    const getSeconds = (performance.now() - t0) / 1000;
    const size = Number(await getter.getByTestId('storage-download').getAttribute('data-size'));
    if (size !== bytes) throw new Error(`got ${size} bytes back, put ${bytes}`);
    return { lookupMs, putSeconds, getSeconds, bytes };
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
