/**
 * Storage figures from real Chromium peers (one browser context each, the built app served by the real server,
 * loopback only): Chord lookup latency timed inside each node (the storage panel's "Time 50 lookups"), and the
 * wall time of putting a file through the panel (read, chunk, encrypt, 3 replicas) and getting it back by link
 * on another peer, from the click until the link or the download is shown. Optionally the lookups are timed again
 * on the other peers while the put runs (lookups whose messages share links with the chunks in flight).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
  /**
   * The same get once more by the same peer (NaN when the first or this one failed): its links have now carried a
   * chunk each way, as the raw references' channels are warmed before they are timed.
   */
  readonly getAgainSeconds: number;
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
async function ringOf(browser: Browser, url: string, peers: number): Promise<PeerTab[]> {
  const tabs: PeerTab[] = [];
  for (let i = 0; i < peers; i++) tabs.push(await openPeer(browser, url));
  for (const t of tabs) {
    const ready = async (): Promise<boolean> => (await numberOf(t.page, 'storage-successors')) >= Math.min(3, peers - 1);
    await waitUntil(ready, 90_000 + peers * 3000, `ring at ${t.peerId.slice(0, 8)}`);
  }
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
 * ring settling, the probes). Only `probePeers` of the peers probe (50 lookups each). While the tabs open and the
 * ring forms, every tab's ring is sampled (RingWatch) and its timeline printed; probing starts once the ring is
 * correct, or when the ring's share of the budget is spent (then the ring is probed as it is). Probes past the
 * budget are counted, not waited for.
 */
export async function browserLookupFigures(peers: number, staticDir = 'dist', budgetMs = Infinity, probePeers = peers): Promise<LookupFigures> {
  const deadline = Date.now() + budgetMs;
  const settleBy = Number.isFinite(budgetMs) ? deadline - 90_000 : Date.now() + 90_000 + peers * 3000;
  return withCloud(staticDir, async (browser, url) => {
    const watch = new RingWatch();
    for (let i = 0; i < peers && Date.now() < settleBy; i++) {
      // A tab that does not load (a machine past its cores) is left out.
      try {
        watch.add(await openPeer(browser, url));
      } catch (err) {
        console.error(`storage bench: peer ${i + 1} of ${peers} did not open: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
    }
    watch.allOpened();
    await waitUntil(() => watch.correctAt !== null, Math.max(0, settleBy - Date.now()), 'ring correct').catch(() => undefined);
    await watch.stop();
    const unsettled = watch.report(peers);
    const tabs = watch.tabs;
    if (watch.correctAt === null && tabs.length > 0) {
      const pages = [tabs[0]!, tabs[tabs.length - 1]!];
      console.error(`storage bench: the ring did not become correct; first and last tab:\n${(await Promise.all(pages.map((t) => pageDiagnosis(t.page, 40, /chord|link|unreachable|E_/).catch((err: unknown) => `(no diagnosis: ${String(err)})`)))).join('\n---\n')}`);
    }
    const probed = await timeLookups(tabs.slice(0, probePeers), deadline);
    return { ...probed, unprobed: probed.unprobed + Math.max(0, Math.min(probePeers, peers) - tabs.length), opened: tabs.length, unsettled };
  });
}

/** One tab's ring as its storage panel shows it: its successors (the panel lists at most 4) and its predecessor's first 8 hex. */
interface RingSample {
  readonly successors: number;
  readonly pred: string | null;
}

async function ringSample(t: PeerTab): Promise<RingSample | null> {
  return t.page.evaluate(() => {
    const el = document.querySelector('[data-testid="storage-successors"]');
    if (!el) return null;
    const m = /predecessor ([0-9a-f]{8}|unknown)/.exec(el.parentElement?.textContent ?? '');
    return { successors: Number(el.textContent), pred: m && m[1] !== 'unknown' ? m[1]! : null };
  }).catch(() => null);
}

interface TabTimeline {
  readonly openedAt: number;
  /** Seconds from the watch's start: first sample with ≥ 3 successors; since when it had them without a break. */
  firstThree: number | null;
  threeSince: number | null;
  /** Since when its predecessor was the true one among the open tabs, without a break. */
  predSince: number | null;
  /** The last time it went from ≥ 3 successors to fewer. */
  lostThree: number | null;
  last: RingSample | null;
}

const RING_SAMPLE_MS = 3000;
/** Seconds between the ring's one-line summaries (with the machine's load average) while the watch runs. */
const RING_SUMMARY_S = 20;

/**
 * Samples every open tab's ring about every 3 s, against the ring the sorted peer ids of the open tabs make: when
 * each tab had 3 successors, when its predecessor became the true one, and when the whole ring was correct (every
 * tab, all opened, with ≥ 3 successors and its true predecessor; the panel shows successor counts, not ids, so
 * true predecessors all round stand for a correct ring).
 */
class RingWatch {
  readonly tabs: PeerTab[] = [];
  /** Seconds from the start at which the ring was correct, without a break since; null while it is not. */
  correctAt: number | null = null;
  private readonly t0 = Date.now();
  private readonly timeline = new Map<PeerTab, TabTimeline>();
  private lastOpenedAt = 0;
  private lastSummary = 0;
  private opening = true;
  private running = true;
  private readonly loop: Promise<void>;

  constructor() {
    this.loop = this.run();
  }

  add(t: PeerTab): void {
    this.lastOpenedAt = this.seconds();
    this.tabs.push(t);
    this.timeline.set(t, { openedAt: this.lastOpenedAt, firstThree: null, threeSince: null, predSince: null, lostThree: null, last: null });
  }

  allOpened(): void {
    this.opening = false;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Prints every tab's timeline and the ring's; returns how many tabs had fewer than 3 successors at the end. */
  report(asked: number): number {
    const line = (s: number | null): string => (s === null ? 'never' : `${s.toFixed(1)} s`);
    const n = this.tabs.length;
    this.tabs.forEach((t, i) => {
      const tl = this.timeline.get(t)!;
      console.log(`storage bench ring: tab ${i + 1} ${t.peerId.slice(0, 8)} opened ${line(tl.openedAt)}, ≥3 successors first ${line(tl.firstThree)} (since ${line(tl.threeSince)}, last lost ${line(tl.lostThree)}), `
        + `true predecessor since ${line(tl.predSince)}; last: ${tl.last ? `${tl.last.successors} successors, predecessor ${tl.last.pred ?? 'unknown'}` : 'no sample'}`);
    });
    const last = [...this.timeline.values()];
    const three = last.filter((tl) => (tl.last?.successors ?? 0) >= Math.min(3, n - 1)).length;
    const preds = last.filter((tl) => tl.predSince !== null).length;
    console.log(`storage bench ring: ${n} of ${asked} tabs opened, the last at ${line(this.lastOpenedAt)}; `
      + (this.correctAt !== null
        ? `ring correct at ${line(this.correctAt)}, ${(this.correctAt - this.lastOpenedAt).toFixed(1)} s after the last tab opened`
        : `ring NOT correct by ${line(this.seconds())}: ${three} of ${n} tabs with ≥3 successors, ${preds} with their true predecessor`));
    return n - three;
  }

  private seconds(): number {
    return (Date.now() - this.t0) / 1000;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      await this.sample();
      await new Promise((r) => setTimeout(r, Math.max(0, RING_SAMPLE_MS - (Date.now() - started))));
    }
  }

  private async sample(): Promise<void> {
    const tabs = [...this.tabs];
    if (tabs.length === 0) return;
    const samples = await Promise.all(tabs.map((t) => ringSample(t)));
    const at = this.seconds();
    const sorted = tabs.map((t) => t.peerId).sort();
    const n = sorted.length;
    let allRight = !this.opening;
    tabs.forEach((t, i) => {
      const tl = this.timeline.get(t)!;
      // A sample that failed (the page busy past the evaluate) keeps the tab's last one.
      const x = samples[i] ?? tl.last;
      tl.last = x;
      const truePred = sorted[(sorted.indexOf(t.peerId) + n - 1) % n]!.slice(0, 8);
      const three = x !== null && x.successors >= Math.min(3, n - 1);
      const predRight = x !== null && x.pred === truePred;
      if (three) {
        tl.firstThree ??= at;
        tl.threeSince ??= at;
      } else if (tl.threeSince !== null) {
        tl.threeSince = null;
        tl.lostThree = at;
      }
      if (predRight) tl.predSince ??= at;
      else tl.predSince = null;
      if (!three || !predRight) allRight = false;
    });
    if (!allRight) this.correctAt = null;
    else this.correctAt ??= at;
    if (at - this.lastSummary < RING_SUMMARY_S) return;
    this.lastSummary = at;
    const all = [...this.timeline.values()];
    console.log(`storage bench ring at ${at.toFixed(0)} s: ${n} tabs open, ${all.filter((tl) => tl.threeSince !== null).length} with ≥3 successors, `
      + `${all.filter((tl) => tl.predSince !== null).length} with their true predecessor; load average ${(await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ')[0]}`);
  }
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
      let getAgainSeconds = NaN;
      if (getError === null) {
        const button = getter.getByTestId('storage-get');
        t0 = performance.now();
        await button.click();
        await waitUntil(async () => await button.isEnabled(), 600_000, 'the second get');
        if ((await getter.getByTestId('storage-get-error').count()) === 0) getAgainSeconds = (performance.now() - t0) / 1000;
        else console.error(`storage bench: the second get failed: ${await getter.getByTestId('storage-get-error').textContent()}`);
      }
      return { lookupMs, lookupFailures, putLookupMs, putLookupFailures, putSeconds, getSeconds, getError, getAgainSeconds, bytes };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
