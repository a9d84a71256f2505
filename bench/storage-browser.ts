/**
 * Storage figures from real Chromium peers (one browser context each, the built app served by the real server,
 * loopback only): Chord lookup latency timed inside each node (the storage panel's "Time 50 lookups"), and the
 * wall time of putting a file through the panel (read, chunk, encrypt, 3 replicas) and getting it back by link
 * on another peer, from the click until the link or the download is shown. Optionally the lookups are timed again
 * on the other peers while the put runs (lookups whose messages share links with the chunks in flight).
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
  /** Lookups timed on every peer but the putter while the put ran (empty unless `lookupsDuringPut`). */
  readonly putLookupMs: number[];
  readonly putLookupFailures: string[];
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
  /** Time 50 lookups on every peer but the putter while the put runs (default false). */
  readonly lookupsDuringPut?: boolean;
  /** Called (and awaited) as the put starts and as the put and the get finish: a profiler's marks (bench/storage-profile.ts). */
  readonly onPhase?: (phase: 'put-start' | 'put-done' | 'get-done', browser: Browser, tabs: readonly PeerTab[]) => void | Promise<void>;
}

const MiB = 1024 * 1024;

async function shown(page: Page, okId: string, errorId: string, timeoutMs: number): Promise<void> {
  await page.locator(`[data-testid="${okId}"], [data-testid="${errorId}"]`).first().waitFor({ timeout: timeoutMs });
  if ((await page.getByTestId(errorId).count()) > 0) throw new Error(`${errorId}: ${await page.getByTestId(errorId).textContent()}`);
}

/** Opens `peers` app tabs on one cloud and waits until each has its ring successors and stabilisation settled. */
async function ringOf(browser: Browser, url: string, peers: number, settleBy = Infinity): Promise<PeerTab[] & { unsettled?: number }> {
  const tabs: PeerTab[] = [];
  for (let i = 0; i < peers; i++) {
    if (!Number.isFinite(settleBy)) {
      tabs.push(await openPeer(browser, url));
      continue;
    }
    // Under a budget, a tab that does not load (a machine past its cores) or comes too late is left out.
    if (Date.now() > settleBy) break;
    try {
      tabs.push(await openPeer(browser, url));
    } catch (err) {
      console.error(`storage bench: peer ${i + 1} of ${peers} did not open: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  let unsettled = 0;
  for (const t of tabs) {
    const ready = async (): Promise<boolean> => (await numberOf(t.page, 'storage-successors')) >= Math.min(3, peers - 1);
    if (!Number.isFinite(settleBy)) {
      await waitUntil(ready, 90_000 + peers * 3000, `ring at ${t.peerId.slice(0, 8)}`);
      continue;
    }
    // Under a budget, a peer that has not settled in time is measured as it is (its probe may then fail), and
    // once the ring's time is up no peer is waited for any more.
    const left = settleBy - Date.now();
    if (left > 0) await waitUntil(ready, left, `ring at ${t.peerId.slice(0, 8)}`).catch(() => unsettled++);
    else unsettled++;
  }
  if (unsettled > 0) console.error(`storage bench: ${unsettled} of ${tabs.length} peers had fewer than 3 successors when the ring's time ran out`);
  Object.assign(tabs, { unsettled });
  await new Promise((r) => setTimeout(r, 3000));
  return tabs;
}

/** What the lookup probes gave: samples, failed probes (with their error), and peers left unprobed. */
export interface LookupFigures {
  readonly ms: number[];
  /** Probes that failed (a lookup timed out: the probe stops at its first failure) or did not answer in time. */
  readonly failures: string[];
  /** Peers not probed because the run's time budget was spent (ring forming or probing too slowly). */
  readonly unprobed: number;
  /** Peers whose tab opened (fewer than asked for when tabs failed to load within the budget). */
  readonly opened?: number;
  /** Opened peers with fewer than 3 ring successors when probing began (the ring had not formed). */
  readonly unsettled?: number;
}

/**
 * Peers time 50 Chord lookups of random keys each, one peer after another, until `deadline` (ms since the epoch):
 * a probe gets what remains of the budget (at most 300 s); one that fails or runs out of time adds no samples and
 * is named in `failures`, and peers not reached count as `unprobed`.
 */
async function timeLookups(tabs: readonly PeerTab[], deadline = Infinity): Promise<LookupFigures> {
  const ms: number[] = [];
  const failures: string[] = [];
  let unprobed = 0;
  for (const t of tabs) {
    const left = deadline - Date.now();
    if (left < 5000) {
      unprobed++;
      continue;
    }
    const probe = await probeLookups(t, Math.min(300_000, left));
    if (typeof probe === 'string') failures.push(probe);
    else ms.push(...probe);
  }
  return { ms, failures, unprobed };
}

/**
 * One peer's 50 timed lookups through its panel: the samples, or the failure. The button is disabled while the
 * probe runs (the panel sets it in the click handler), so its coming back marks this probe's end even when an
 * earlier probe's figures are still shown.
 */
async function probeLookups(t: PeerTab, timeoutMs: number): Promise<number[] | string> {
  const button = t.page.getByTestId('storage-probe-lookups');
  const shown = t.page.getByTestId('storage-lookup-ms');
  const error = button.locator('xpath=..').locator('.error');
  await button.click();
  try {
    await waitUntil(async () => await button.isEnabled(), timeoutMs, `lookups timed at ${t.peerId.slice(0, 8)}`);
  } catch {
    return `${t.peerId.slice(0, 8)}: E_BENCH_PROBE_TIMEOUT (no answer within the run's budget)`;
  }
  if ((await error.count()) > 0) return `${t.peerId.slice(0, 8)}: ${(await error.textContent()) ?? 'no samples'}`;
  if ((await shown.count()) === 0) return `${t.peerId.slice(0, 8)}: no samples`;
  return JSON.parse((await shown.getAttribute('data-ms')) ?? '[]') as number[];
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

/**
 * Lookup latencies alone, on a ring of `peers` tabs, within `budgetMs` for the whole run (opening the tabs, the
 * ring settling, the probes). Only `probePeers` of the peers probe (50 lookups each). A ring that does not settle
 * in time is probed as it is; probes past the budget are counted, not waited for.
 */
export async function browserLookupFigures(peers: number, staticDir = 'dist', budgetMs = Infinity, probePeers = peers): Promise<LookupFigures> {
  const deadline = Date.now() + budgetMs;
  return withCloud(staticDir, async (browser, url) => {
    const tabs = await ringOf(browser, url, peers, deadline - 90_000);
    const probed = await timeLookups(tabs.slice(0, probePeers), deadline);
    return { ...probed, unprobed: probed.unprobed + Math.max(0, Math.min(probePeers, peers) - tabs.length), opened: tabs.length, unsettled: tabs.unsettled ?? 0 };
  });
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
      await options.onPhase?.('put-start', browser, tabs);
      let t0 = performance.now();
      await putter.getByTestId('storage-put').click();
      const during = options.lookupsDuringPut ? Promise.all(tabs.slice(1).map((t) => probeLookups(t, 600_000))) : Promise.resolve([]);
      await shown(putter, 'storage-link', 'storage-put-error', 600_000);
      const putSeconds = (performance.now() - t0) / 1000;
      const probes = await during;
      const putLookupMs = probes.flatMap((p) => (typeof p === 'string' ? [] : p));
      const putLookupFailures = probes.filter((p): p is string => typeof p === 'string');
      await options.onPhase?.('put-done', browser, tabs);
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
      await options.onPhase?.('get-done', browser, tabs);
      return { lookupMs, lookupFailures, putLookupMs, putLookupFailures, putSeconds, getSeconds, getError, bytes };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
