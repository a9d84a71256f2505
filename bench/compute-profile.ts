/**
 * Where a dispatch job's JavaScript time goes (NEPHELE_BENCH_PROFILE=1 with the compute bench): Chromium's CPU
 * profiler through CDP on the submitter's page, one host's page, and the SharedWorkers of both (attached from the
 * browser session), during the timed job. Prints each thread's self time by function, heaviest first; the raw
 * profiles go to /tmp/nephele-profile-<label>.cpuprofile (open them in Chrome's DevTools).
 */
import { writeFileSync } from 'node:fs';
import type { Browser, CDPSession } from 'playwright-core';
import type { PeerTab } from '../tests/browser/harness.ts';

interface ProfileNode {
  readonly id: number;
  readonly hitCount?: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
}

/** A CDP target reached through the browser session (Target.sendMessageToTarget, no flattening). */
class TargetSession {
  private next = 1;
  private readonly waiting = new Map<number, (result: unknown) => void>();
  constructor(private readonly browser: CDPSession, private readonly sessionId: string) {
    browser.on('Target.receivedMessageFromTarget', (event: { sessionId: string; message: string }) => {
      if (event.sessionId !== this.sessionId) return;
      const msg = JSON.parse(event.message) as { id?: number; result?: unknown; error?: unknown };
      if (msg.id !== undefined) this.waiting.get(msg.id)?.(msg.result ?? msg.error);
    });
  }
  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.next++;
    const done = new Promise<unknown>((resolve) => this.waiting.set(id, resolve));
    void this.browser.send('Target.sendMessageToTarget', { sessionId: this.sessionId, message: JSON.stringify({ id, method, params }) });
    return done;
  }
}

type Sender = { send(method: string, params?: Record<string, unknown>): Promise<unknown> };

export interface Profiling {
  stop(tasks: number): Promise<void>;
}

/** Starts the profiler on the submitter page, a host page and every SharedWorker (up to `maxWorkers`). */
export async function startProfiling(browser: Browser, tabs: readonly PeerTab[], maxWorkers = 2): Promise<Profiling> {
  const targets: { label: string; session: Sender }[] = [];
  for (const [label, tab] of [['submitter-page', tabs[0]], ['host-page', tabs[1]]] as const) {
    if (!tab) continue;
    targets.push({ label, session: (await tab.context.newCDPSession(tab.page)) as unknown as Sender });
  }
  try {
    const root = await browser.newBrowserCDPSession();
    const { targetInfos } = (await root.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string; url: string }[] };
    for (const info of targetInfos.filter((t) => t.type === 'shared_worker').slice(0, maxWorkers)) {
      const { sessionId } = (await root.send('Target.attachToTarget', { targetId: info.targetId, flatten: false })) as { sessionId: string };
      targets.push({ label: `shared-worker-${targets.length}`, session: new TargetSession(root, sessionId) });
    }
  } catch (err) {
    console.log(`compute bench: no SharedWorker profile (${String(err)})`);
  }
  for (const t of targets) {
    await t.session.send('Profiler.enable');
    await t.session.send('Profiler.setSamplingInterval', { interval: 250 });
    await t.session.send('Profiler.start');
  }
  return {
    async stop(tasks: number): Promise<void> {
      for (const t of targets) {
        const answer = (await t.session.send('Profiler.stop')) as { profile?: Profile } | undefined;
        if (!answer?.profile) {
          console.log(`compute bench: profile of ${t.label}: none`);
          continue;
        }
        writeFileSync(`/tmp/nephele-profile-${t.label}.cpuprofile`, JSON.stringify(answer.profile));
        printProfile(t.label, answer.profile, tasks);
      }
    },
  };
}

function printProfile(label: string, profile: Profile, tasks: number): void {
  const totalHits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const msPerHit = totalHits > 0 ? wallMs / totalHits : 0;
  const byName = new Map<string, number>();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const file = f.url.split('/').pop()?.split('?')[0] ?? '';
    const key = `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}` : ''}`;
    byName.set(key, (byName.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  const idle = byName.get('(idle) ') ?? 0;
  console.log(`compute bench: profile of ${label}: ${((totalHits - idle) * msPerHit).toFixed(0)} ms busy of ${wallMs.toFixed(0)} ms`);
  const rows = [...byName].filter(([k]) => k !== '(idle) ').sort((a, b) => b[1] - a[1]).slice(0, 22);
  for (const [k, hits] of rows) {
    console.log(`  ${(hits * msPerHit).toFixed(0).padStart(6)} ms  ${((hits * msPerHit) / tasks).toFixed(3).padStart(7)} ms/task  ${k}`);
  }
}
