/**
 * Chromium's sampling CPU profiler (CDP `Profiler`) on app pages and on SharedWorkers, for the benches that ask
 * where a browser run's JavaScript time goes (compute-profile.ts, storage-profile.ts). Pages are profiled through
 * a page CDP session; SharedWorkers through the browser's session with `Target.attachToTarget` (flatten off:
 * Playwright's CDPSession cannot address flattened child sessions), their commands wrapped in
 * `Target.sendMessageToTarget`.
 */
import type { Browser, CDPSession } from 'playwright-core';
import type { PeerTab } from '../tests/browser/harness.ts';

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: number[];
}
export interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples?: number[];
  readonly timeDeltas?: number[];
}

/** A thread the profiler can run on. */
export interface ProfilerTarget {
  readonly kind: 'page' | 'worker';
  send(method: string, params?: Record<string, unknown>): Promise<unknown>;
}

/** The main thread of each tab's page. */
export async function pageTargets(tabs: readonly PeerTab[]): Promise<ProfilerTarget[]> {
  return Promise.all(tabs.map(async (t) => {
    const session = await t.context.newCDPSession(t.page);
    return { kind: 'page' as const, send: (method: string, params?: Record<string, unknown>) => session.send(method as 'Profiler.start', params as never) as Promise<unknown> };
  }));
}

/** Every SharedWorker of the browser (the first `max`). */
export async function sharedWorkerTargets(browser: Browser, max = Infinity): Promise<ProfilerTarget[]> {
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
  const out: ProfilerTarget[] = [];
  for (const info of targetInfos.filter((t) => t.type === 'shared_worker').slice(0, max)) {
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

/** Starts the profiler on every target, sampling every `intervalUs` microseconds. */
export async function startProfilers(targets: readonly ProfilerTarget[], intervalUs: number): Promise<void> {
  for (const t of targets) {
    await t.send('Profiler.enable');
    await t.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await t.send('Profiler.start');
  }
}

/** Stops a target's profiler and returns its profile (null if it gave none). */
export async function stopProfiler(target: ProfilerTarget): Promise<Profile | null> {
  const answer = (await target.send('Profiler.stop')) as { profile?: Profile } | undefined;
  return answer?.profile ?? null;
}

/** "function file:line" of a profile node. */
function nameOf(node: ProfileNode | undefined): string {
  if (!node) return '-';
  const f = node.callFrame;
  const file = f.url.split('/').pop()?.split('?')[0] ?? '';
  return `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}` : ''}`;
}

/**
 * Adds a profile's self time (ms) per function to `into`, and, if given, per "function ← caller ← caller's
 * caller" to `chains`.
 */
export function addSelfTimes(profile: Profile, into: Map<string, number>, chains?: Map<string, number>): void {
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
    if (!chains) continue;
    const p1 = parent.get(node.id);
    const chain = `${key} ← ${nameOf(p1)} ← ${nameOf(p1 ? parent.get(p1.id) : undefined)}`;
    chains.set(chain, (chains.get(chain) ?? 0) + ms);
  }
}

/** Prints the busy time and the `top` heaviest functions (with ms per unit of work when `perUnit` is given). */
export function printSelfTimes(title: string, times: ReadonlyMap<string, number>, top: number, perUnit?: number): void {
  const total = [...times.values()].reduce((a, b) => a + b, 0);
  const idle = [...times].filter(([k]) => k.startsWith('(idle) ')).reduce((a, [, v]) => a + v, 0);
  const busy = total - idle;
  console.log(`\n== ${title}: ${(total / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s busy`);
  const rows = [...times].filter(([k]) => !k.startsWith('(idle) ')).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, ms] of rows) {
    const share = `${((100 * ms) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
    const unit = perUnit ? `  ${(ms / perUnit).toFixed(3).padStart(7)} ms/task` : '';
    console.log(`${ms.toFixed(0).padStart(8)} ms  ${share}${unit}  ${key}`);
  }
}
