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
import type { Browser, Page } from 'playwright-core';
import { startSignalingServer } from '../signaling/server.ts';
import { launchChromium, numberOf, openPeer, pageDiagnosis, waitUntil, type PeerTab } from '../tests/browser/harness.ts';

export interface StorageBrowserFigures {
  /** Every lookup's latency from every peer (ms); empty when lookups were not timed. */
  readonly lookupMs: number[];
  /** Peers whose probe failed, with the error. */
  readonly lookupFailures: string[];
  readonly putSeconds: number;
  /** NaN when the get failed (then `getError` says why). */
  readonly getSeconds: number;
  readonly getError: string | null;
  readonly bytes: number;
}

export interface StorageBenchOptions {
  /** Built app to serve (default dist/; the A/B runs serve two builds side by side). */
  readonly staticDir?: string;
  /** Time 50 lookups on every peer before the put (default true). */
  readonly lookups?: boolean;
  /** Called as the put starts and as the put and the get finish (a profiler's marks). */
  readonly onPhase?: (phase: 'put-start' | 'put-done' | 'get-done') => void;
}

const MiB = 1024 * 1024;

async function shown(page: Page, okId: string, errorId: string, timeoutMs: number): Promise<void> {
  await page.locator(`[data-testid="${okId}"], [data-testid="${errorId}"]`).first().waitFor({ timeout: timeoutMs });
  if ((await page.getByTestId(errorId).count()) > 0) throw new Error(`${errorId}: ${await page.getByTestId(errorId).textContent()}`);
}

/** Opens `peers` app tabs on one cloud and waits until each has its ring successors and stabilisation settled. */
async function ringOf(browser: Browser, url: string, peers: number): Promise<PeerTab[]> {
  const tabs: PeerTab[] = [];
  for (let i = 0; i < peers; i++) tabs.push(await openPeer(browser, url));
  for (const t of tabs) {
    await waitUntil(async () => (await numberOf(t.page, 'storage-successors')) >= Math.min(3, peers - 1), 90_000 + peers * 3000, `ring at ${t.peerId.slice(0, 8)}`);
  }
  await new Promise((r) => setTimeout(r, 3000));
  return tabs;
}

/**
 * Every peer times 50 Chord lookups of random keys, one peer after another. A probe that fails (a lookup timed out:
 * the probe stops at its first failure) adds no samples; its error is counted in `failures`.
 */
async function timeLookups(tabs: readonly PeerTab[]): Promise<{ ms: number[]; failures: string[] }> {
  const ms: number[] = [];
  const failures: string[] = [];
  for (const t of tabs) {
    const button = t.page.getByTestId('storage-probe-lookups');
    const shown = t.page.getByTestId('storage-lookup-ms');
    const error = button.locator('xpath=..').locator('.error');
    await button.click();
    await waitUntil(async () => (await shown.count()) > 0 || (await error.count()) > 0, 300_000, `lookups timed at ${t.peerId.slice(0, 8)}`);
    if ((await shown.count()) > 0) ms.push(...(JSON.parse((await shown.getAttribute('data-ms')) ?? '[]') as number[]));
    else failures.push(`${t.peerId.slice(0, 8)}: ${(await error.textContent()) ?? 'no samples'}`);
  }
  return { ms, failures };
}

async function withCloud<T>(staticDir: string, work: (browser: Browser, url: string) => Promise<T>): Promise<T> {
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir, maxConnectionsPerAddress: 256 });
  const browser = await launchChromium();
  try {
    return await work(browser, `${server.url}/?cloud=bench-storage&tick=300`);
  } finally {
    await browser.close();
    await server.close();
  }
}

/** Lookup latencies alone, on a ring of `peers` tabs. */
export async function browserLookupFigures(peers: number, staticDir = 'dist'): Promise<{ ms: number[]; failures: string[] }> {
  return withCloud(staticDir, async (browser, url) => timeLookups(await ringOf(browser, url, peers)));
}

export async function browserStorageFigures(peers: number, mib: number, options: StorageBenchOptions = {}): Promise<StorageBrowserFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'nephele-storage-bench-'));
  try {
    return await withCloud(options.staticDir ?? 'dist', async (browser, url) => {
      const tabs = await ringOf(browser, url, peers);
      const { ms: lookupMs, failures: lookupFailures } = options.lookups === false ? { ms: [], failures: [] } : await timeLookups(tabs);

      const bytes = mib * MiB;
      const path = join(dir, 'bench.bin');
      await writeFile(path, randomBytes(bytes));
      const putter = tabs[0]!.page;
      await putter.getByTestId('storage-file').setInputFiles(path);
      options.onPhase?.('put-start');
      let t0 = performance.now();
      await putter.getByTestId('storage-put').click();
      await shown(putter, 'storage-link', 'storage-put-error', 600_000);
      const putSeconds = (performance.now() - t0) / 1000;
      options.onPhase?.('put-done');
      const link = ((await putter.getByTestId('storage-link').textContent()) ?? '').trim();

      // A failed get is a figure too (reported, not thrown), so the put and the references of the run are kept.
      const getter = tabs[tabs.length - 1]!.page;
      await getter.getByTestId('storage-get-link').fill(link);
      t0 = performance.now();
      await getter.getByTestId('storage-get').click();
      let getSeconds = NaN;
      let getError: string | null = null;
      try {
        await shown(getter, 'storage-download', 'storage-get-error', 600_000);
        getSeconds = (performance.now() - t0) / 1000;
        const size = Number(await getter.getByTestId('storage-download').getAttribute('data-size'));
        if (size !== bytes) throw new Error(`got ${size} bytes back, put ${bytes}`);
      } catch (err) {
        getError = err instanceof Error ? err.message : String(err);
        const pages = [tabs[0]!, tabs[tabs.length - 1]!];
        console.error(`storage bench: the get failed (${getError}); putter, then getter:\n${(await Promise.all(pages.map((t) => pageDiagnosis(t.page, 30)))).join('\n---\n')}`);
      }
      options.onPhase?.('get-done');
      return { lookupMs, lookupFailures, putSeconds, getSeconds, getError, bytes };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
