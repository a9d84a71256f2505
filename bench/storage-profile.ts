/**
 * Where a put's CPU goes in the browser: runs the storage bench's put and get (bench/storage-browser.ts) and, from
 * the put's start to its end, Chromium's sampling CPU profiler (CDP `Profiler`) on every app page and on every
 * node's SharedWorker. Prints the self time per function summed over the pages and over the workers (JS threads
 * only: SCTP and the data channels run on Chromium's network threads, which this does not see).
 *
 *   npx tsx bench/storage-profile.ts [staticDir=dist] [MiB=16] [peers=4]
 *
 * Build the app unminified for readable names (`npx vite build --minify false --outDir <dir>`), and run it inside
 * the browser lock like any bench. SharedWorkers are reached through the browser's CDP session with
 * `Target.attachToTarget` (flatten off: Playwright's CDPSession cannot address flattened child sessions).
 */
import type { Browser, CDPSession } from 'playwright-core';
import { browserStorageFigures } from './storage-browser.ts';
import type { PeerTab } from '../tests/browser/harness.ts';

interface Target {
  readonly kind: 'page' | 'worker';
  send(method: string, params?: Record<string, unknown>): Promise<unknown>;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: number[];
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples?: number[];
  readonly timeDeltas?: number[];
}

async function pageTargets(tabs: readonly PeerTab[]): Promise<Target[]> {
  return Promise.all(tabs.map(async (t) => {
    const session = await t.context.newCDPSession(t.page);
    return { kind: 'page' as const, send: (method: string, params?: Record<string, unknown>) => session.send(method as 'Profiler.start', params as never) as Promise<unknown> };
  }));
}

async function workerTargets(browser: Browser): Promise<Target[]> {
  const cdp: CDPSession = await browser.newBrowserCDPSession();
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string; url: string }[] };
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  cdp.on('Target.receivedMessageFromTarget', (event: { sessionId: string; message: string }) => {
    const msg = JSON.parse(event.message) as { id?: number; result?: unknown; error?: { message: string } };
    const key = `${event.sessionId}:${msg.id}`;
    const waiter = pending.get(key);
    if (!waiter) return;
    pending.delete(key);
    if (msg.error) waiter.reject(new Error(msg.error.message));
    else waiter.resolve(msg.result);
  });
  let nextId = 1;
  const out: Target[] = [];
  for (const info of targetInfos.filter((t) => t.type === 'shared_worker')) {
    const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId: info.targetId, flatten: false })) as { sessionId: string };
    out.push({
      kind: 'worker',
      send: (method, params) => new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(`${sessionId}:${id}`, { resolve, reject });
        cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params: params ?? {} }) }).catch(reject);
      }),
    });
  }
  return out;
}

/** "function file:line" of a profile node. */
function nameOf(node: ProfileNode | undefined): string {
  if (!node) return '-';
  const f = node.callFrame;
  const file = f.url.split('/').pop() ?? '';
  return `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}` : ''}`;
}

/** Self time (ms) per function, and per "function ← caller ← caller's caller", from a profile's samples. */
function selfTimes(profile: Profile, into: Map<string, number>, chains: Map<string, number>): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]!);
    if (!node) continue;
    // A sample's delta is the time since the one before: charge it to this sample's function.
    const ms = (deltas[i] ?? 0) / 1000;
    const key = nameOf(node);
    into.set(key, (into.get(key) ?? 0) + ms);
    const p1 = parent.get(node.id);
    const chain = `${key} ← ${nameOf(p1)} ← ${nameOf(p1 ? parent.get(p1.id) : undefined)}`;
    chains.set(chain, (chains.get(chain) ?? 0) + ms);
  }
}

function report(kind: string, times: Map<string, number>, top: number): void {
  const total = [...times.values()].reduce((a, b) => a + b, 0);
  const idle = [...times].filter(([k]) => k.startsWith('(idle) ')).reduce((a, [, v]) => a + v, 0);
  console.log(`\n== ${kind}: ${(total / 1000).toFixed(2)} s sampled, ${((total - idle) / 1000).toFixed(2)} s busy`);
  const rows = [...times].filter(([k]) => !k.startsWith('(idle) ')).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, ms] of rows) console.log(`${ms.toFixed(0).padStart(8)} ms  ${((100 * ms) / Math.max(1, total - idle)).toFixed(1).padStart(5)}%  ${key}`);
}

async function main(): Promise<void> {
  const [staticDir = 'dist', mibArg = '16', peersArg = '4'] = process.argv.slice(2);
  let targets: Target[] = [];
  const pages = new Map<string, number>();
  const workers = new Map<string, number>();
  const pageChains = new Map<string, number>();
  const workerChains = new Map<string, number>();
  const figures = await browserStorageFigures(Number(peersArg), Number(mibArg), {
    staticDir, lookups: false,
    onPhase: async (phase, browser, tabs) => {
      if (phase === 'put-start') {
        targets = [...(await pageTargets(tabs)), ...(await workerTargets(browser))];
        console.log(`profiling ${targets.filter((t) => t.kind === 'page').length} pages and ${targets.filter((t) => t.kind === 'worker').length} shared workers`);
        for (const t of targets) {
          await t.send('Profiler.enable');
          await t.send('Profiler.setSamplingInterval', { interval: 500 });
          await t.send('Profiler.start');
        }
      } else if (phase === 'put-done') {
        for (const t of targets) {
          const { profile } = (await t.send('Profiler.stop')) as { profile: Profile };
          if (t.kind === 'page') selfTimes(profile, pages, pageChains);
          else selfTimes(profile, workers, workerChains);
        }
      }
    },
  });
  console.log(`put ${figures.bytes / 2 ** 20} MiB in ${figures.putSeconds.toFixed(2)} s (${(figures.bytes / 1e6 / figures.putSeconds).toFixed(2)} MB/s); get ${figures.getError ?? `${figures.getSeconds.toFixed(2)} s`}`);
  report('pages (main threads, summed)', pages, 30);
  report('shared workers (summed)', workers, 40);
  report('pages, by caller chain', pageChains, 30);
  report('shared workers, by caller chain', workerChains, 50);
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
