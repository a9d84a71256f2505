import { describe, expect, it } from 'vitest';
import type { Effect, ProtocolContext } from '../../src/core/protocol.ts';
import { createRng, type Rng } from '../../src/core/rng.ts';
import { viewOf } from '../../src/protocols/peer-sampling/view.ts';
import { qualifies, unmetRequirement, type HostCapabilities, type LenderLimits } from '../../src/protocols/scheduler/host-match.ts';
import { Scheduler, type SchedulerOptions } from '../../src/protocols/scheduler/scheduler.ts';
import type { RunRequest } from '../../src/protocols/scheduler/types.ts';
import type { SchedulerMessage } from '../../src/wire/scheduler.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const HASH = 'ab'.repeat(32);
const CAPS: HostCapabilities = { cores: 4, ramMB: 4096, gpuMemoryMB: 0, diskMB: 10_000, kinds: ['wasi'] };
const LIMITS: LenderLimits = { maxConcurrentTasks: 1, cpuCapPercent: 100, paused: false };
const job = (tasks: number, over: Record<string, unknown> = {}) => ({
  image: { kind: 'wasi', sha256: HASH, size: 100 },
  tasks: Array.from({ length: tasks }, (_, i) => ({ args: ['t', String(i)], env: {}, stdin: '' })),
  timeLimitMs: 1_000,
  ...over,
});

interface Sent { from: string; to: string; msg: SchedulerMessage }

/** A tiny synchronous network of schedulers: FIFO delivery, a clock we move, peers we can kill. */
class Net {
  readonly nodes = new Map<string, Scheduler>();
  readonly rngs = new Map<string, Rng>();
  readonly down = new Set<string>();
  readonly sent: Sent[] = [];
  private queue: Sent[] = [];
  now = 0;

  add(n: number, options: Partial<SchedulerOptions> = {}): Scheduler {
    const me = id(n);
    const s = new Scheduler({ view: viewOf(() => [...this.nodes.keys()].filter((p) => p !== me)), leaseGraceMs: 500, ...options });
    this.nodes.set(me, s);
    this.rngs.set(me, createRng(n));
    return s;
  }

  ctx(n: number): ProtocolContext {
    return { self: id(n), now: this.now, rng: this.rngs.get(id(n))! };
  }

  push(from: string, effects: Effect<SchedulerMessage>[]): void {
    for (const e of effects) if (e.kind === 'send') this.queue.push({ from, to: e.to, msg: e.msg });
  }

  drain(): void {
    while (this.queue.length > 0) {
      const m = this.queue.shift()!;
      this.sent.push(m);
      const sender = this.nodes.get(m.from)!;
      if (this.down.has(m.to)) {
        this.push(m.from, sender.onPeerDown({ self: m.from, now: this.now, rng: this.rngs.get(m.from)! }, m.to));
        continue;
      }
      const target = this.nodes.get(m.to);
      if (target) this.push(m.to, target.onMessage({ self: m.to, now: this.now, rng: this.rngs.get(m.to)! }, m.from, m.msg));
    }
  }

  tickAll(): void {
    for (const [p, s] of this.nodes) if (!this.down.has(p)) this.push(p, s.onTick({ self: p, now: this.now, rng: this.rngs.get(p)! }));
    this.drain();
  }

  submit(n: number, raw: unknown): string {
    const r = this.nodes.get(id(n))!.submit(this.ctx(n), raw);
    if (!r.ok) throw new Error(r.reason);
    this.push(id(n), r.effects);
    this.drain();
    return r.jobId;
  }

  /** Completes every queued run request of host n with the given digest. */
  finish(n: number, digest: (r: RunRequest) => string = (r) => `d${r.task}`): RunRequest[] {
    const host = this.nodes.get(id(n))!;
    const runs = host.takeRunRequests();
    for (const r of runs) {
      this.push(id(n), host.completeRun(this.ctx(n), r.key, { digest: digest(r), ok: true, exitCode: 0, code: null, stdout: `out ${r.task}`, stderr: '', durationMs: 5 }));
    }
    this.drain();
    return runs;
  }

  count(t: SchedulerMessage['t']): number {
    return this.sent.filter((m) => m.msg.t === t).length;
  }
}

describe('host matching', () => {
  it('checks kind, cores under the CPU cap, RAM (and guest memory), GPU, disk and rank', () => {
    const wasi = { kind: 'wasi', sha256: HASH, size: 1 } as const;
    const x86 = { kind: 'x86', domain: { memoryMB: 8192, boot: 'multiboot', kernel: HASH } } as const;
    expect(qualifies(wasi, {}, CAPS)).toBe(true);
    expect(unmetRequirement(x86, {}, CAPS)).toMatch(/x86/);
    expect(unmetRequirement(x86, {}, { ...CAPS, kinds: ['wasi', 'x86'] })).toMatch(/RAM/);
    expect(qualifies(wasi, { cores: 4 }, CAPS, 100)).toBe(true);
    expect(qualifies(wasi, { cores: 4 }, CAPS, 50)).toBe(false);
    expect(qualifies(wasi, { ramMB: 8000 }, CAPS)).toBe(false);
    expect(qualifies(wasi, { gpuMemoryMB: 1 }, CAPS)).toBe(false);
    expect(qualifies(wasi, { diskMB: 20_000 }, CAPS)).toBe(false);
    const rank = { rank: { attribute: 'speed', topPercent: 10 } };
    expect(qualifies(wasi, rank, CAPS)).toBe(false);
    expect(qualifies(wasi, rank, { ...CAPS, ranks: { speed: 0.05 } })).toBe(true);
    expect(qualifies(wasi, rank, { ...CAPS, ranks: { speed: 0.1 } })).toBe(false);
  });
});

describe('scheduler protocol', () => {
  it('rejects a bad job with E_BAD_JOB and sends nothing', () => {
    const net = new Net();
    const s = net.add(0);
    const r = s.submit(net.ctx(0), job(1, { redundancy: { n: 2, k: 1 } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('E_BAD_JOB');
  });

  it('publishes, a capable host pulls, runs through the runtime, and the result is accepted', () => {
    const net = new Net();
    const sub = net.add(0);
    const host = net.add(1, { capabilities: CAPS, limits: LIMITS });
    const jobId = net.submit(0, job(2));
    expect(net.count('announce')).toBeGreaterThan(0);
    expect(net.count('pull')).toBe(1);
    expect(sub.jobProgress(jobId)).toMatchObject({ status: 'running', running: 1, pending: 1, total: 2 });
    expect(host.runningTasks()).toHaveLength(1);
    const first = net.finish(1);
    expect(first).toHaveLength(1);
    expect(first[0]!.spec.args).toEqual(['t', String(first[0]!.task)]);
    // The freed slot pulled again at once: the second task is running.
    const second = net.finish(1);
    expect(second).toHaveLength(1);
    expect(sub.jobProgress(jobId)).toMatchObject({ status: 'completed', accepted: 2, running: 0, pending: 0 });
    const outcomes = sub.takeOutcomes();
    expect(outcomes.map((o) => [o.task, o.status, o.digest])).toEqual([[first[0]!.task, 'accepted', `d${first[0]!.task}`], [second[0]!.task, 'accepted', `d${second[0]!.task}`]]);
    expect(outcomes[0]!.result?.stdout).toBe(`out ${first[0]!.task}`);
    // Asking for more of a finished job unsubscribes the host for good.
    net.now += 5_000;
    net.tickAll();
    expect(host.takeRunRequests()).toEqual([]);
  });

  it('a host never runs a task it cannot meet the requirements of', () => {
    const net = new Net();
    net.add(0);
    const small = net.add(1, { capabilities: { ...CAPS, ramMB: 256 }, limits: LIMITS });
    const big = net.add(2, { capabilities: CAPS, limits: LIMITS });
    net.submit(0, job(1, { requirements: { ramMB: 1024 } }));
    expect(small.runningTasks()).toEqual([]);
    expect(big.runningTasks()).toHaveLength(1);
    expect(net.sent.filter((m) => m.msg.t === 'pull').every((m) => m.from === id(2))).toBe(true);
  });

  it('the submitter refuses a pull whose capabilities do not qualify', () => {
    const net = new Net();
    const sub = net.add(0);
    const jobId = net.submit(0, job(1, { requirements: { ramMB: 1024 } }));
    const out = sub.onMessage(net.ctx(0), id(9), { v: 2, t: 'pull', jobId, slots: 1, caps: { ...CAPS, kinds: ['wasi'], ramMB: 10 } });
    expect(out).toEqual([{ kind: 'send', to: id(9), msg: { v: 2, t: 'no-work', jobId, final: true } }]);
  });

  it('2-of-3: each replica goes to a distinct host, the liar is outvoted and named a suspect', () => {
    const net = new Net();
    const sub = net.add(0);
    for (let n = 1; n <= 4; n++) net.add(n, { capabilities: CAPS, limits: LIMITS });
    const jobId = net.submit(0, job(1, { redundancy: { n: 3, k: 2 } }));
    const holders = [1, 2, 3, 4].filter((n) => net.nodes.get(id(n))!.runningTasks().length > 0);
    expect(holders).toHaveLength(3);
    const [liar, honest1, honest2] = holders as [number, number, number];
    net.finish(liar, () => 'WRONG');
    net.finish(honest1);
    expect(sub.jobProgress(jobId)!.accepted).toBe(0); // 1 vs 1: no quorum yet
    net.finish(honest2);
    expect(sub.jobProgress(jobId)).toMatchObject({ accepted: 1, suspects: [id(liar)] });
    const [o] = sub.takeOutcomes();
    expect(o).toMatchObject({ status: 'accepted', digest: 'd0', suspects: [id(liar)] });
    expect(o!.agreeing.sort()).toEqual([id(honest1), id(honest2)].sort());
  });

  it('hosts that all disagree get more replicas up to the cap, then E_NO_QUORUM; nothing is accepted', () => {
    const net = new Net();
    const sub = net.add(0, { maxVotes: () => 4 });
    for (let n = 1; n <= 6; n++) net.add(n, { capabilities: CAPS, limits: LIMITS });
    const jobId = net.submit(0, job(1, { redundancy: { n: 3, k: 2 } }));
    for (let round = 0; round < 6; round++) {
      for (let n = 1; n <= 6; n++) net.finish(n, () => `own-${n}`);
      net.now += 3_000;
      net.tickAll();
    }
    expect(sub.jobProgress(jobId)).toMatchObject({ status: 'failed', failed: 1, accepted: 0 });
    const [o] = sub.takeOutcomes();
    expect(o).toMatchObject({ status: 'failed', error: 'E_NO_QUORUM', digest: null });
    expect(sub.taskProgress(jobId)[0]!.votes).toBe(4);
  });

  it('an expired lease is revoked and re-leased to another host; a late result is ignored', () => {
    const net = new Net();
    const sub = net.add(0, { announceIntervalMs: 1_000 });
    const a = net.add(1, { capabilities: CAPS, limits: LIMITS });
    const jobId = net.submit(0, job(1));
    const [stale] = a.takeRunRequests();
    expect(stale).toBeDefined();
    const b = net.add(2, { capabilities: CAPS, limits: LIMITS });
    net.now += 1_600; // time limit 1000 + grace 500
    net.tickAll(); // expiry + re-publication; b subscribes and pulls
    expect(net.count('revoke')).toBe(1);
    expect(a.takeCancelledRuns()).toEqual([stale!.key]);
    expect(b.runningTasks()).toHaveLength(1);
    net.push(id(1), a.completeRun(net.ctx(1), stale!.key, { digest: 'late', ok: true, exitCode: 0, code: null, stdout: '', stderr: '', durationMs: 1 }));
    net.drain();
    expect(net.count('result')).toBe(0); // the revoked run reports nothing
    net.finish(2);
    expect(sub.jobProgress(jobId)).toMatchObject({ status: 'completed', accepted: 1 });
    expect(sub.taskProgress(jobId)[0]).toMatchObject({ losses: 1, votes: 1, digest: 'd0' });
  });

  it('a host that goes down loses its lease, which goes to another host', () => {
    const net = new Net();
    const sub = net.add(0, { announceIntervalMs: 100 });
    net.add(1, { capabilities: CAPS, limits: LIMITS });
    const jobId = net.submit(0, job(1));
    net.down.add(id(1));
    const b = net.add(2, { capabilities: CAPS, limits: LIMITS });
    // The submitter learns of the failure when a message to the host bounces.
    net.push(id(0), sub.onPeerDown(net.ctx(0), id(1)));
    net.now += 200;
    net.tickAll();
    expect(b.runningTasks()).toHaveLength(1);
    net.finish(2);
    expect(sub.jobProgress(jobId)!.status).toBe('completed');
  });

  it('cancel withdraws the job: hosts stop, later pulls get a final no-work', () => {
    const net = new Net();
    const sub = net.add(0);
    const host = net.add(1, { capabilities: CAPS, limits: { ...LIMITS, maxConcurrentTasks: 2 } });
    const jobId = net.submit(0, job(5));
    const running = host.takeRunRequests();
    expect(running).toHaveLength(2);
    net.push(id(0), sub.cancel(net.ctx(0), jobId));
    net.drain();
    expect(host.takeCancelledRuns().sort()).toEqual(running.map((r) => r.key).sort());
    expect(sub.jobProgress(jobId)).toMatchObject({ status: 'cancelled', cancelled: 5, leasesOut: 0 });
    const pulls = net.count('pull');
    net.now += 10_000;
    net.tickAll();
    expect(net.count('pull')).toBe(pulls);
  });

  it('lender limits: at most maxConcurrentTasks at once; paused hosts hand leases back and pull nothing', () => {
    const net = new Net();
    const sub = net.add(0);
    const host = net.add(1, { capabilities: CAPS, limits: { ...LIMITS, maxConcurrentTasks: 3 } });
    const jobId = net.submit(0, job(10));
    expect(host.runningTasks()).toHaveLength(3);
    net.push(id(1), host.setLimits(net.ctx(1), { ...LIMITS, maxConcurrentTasks: 3, paused: true }));
    net.drain();
    expect(host.runningTasks()).toHaveLength(0);
    expect(sub.jobProgress(jobId)).toMatchObject({ running: 0, pending: 10 });
    net.now += 10_000;
    net.tickAll();
    expect(host.runningTasks()).toHaveLength(0);
    net.push(id(1), host.setLimits(net.ctx(1), { ...LIMITS, maxConcurrentTasks: 3, paused: false }));
    net.drain();
    expect(host.runningTasks()).toHaveLength(3);
  });

  it('requirements.peers caps the distinct hosts holding leases at once; a finished job can be forgotten', () => {
    const net = new Net();
    const sub = net.add(0);
    const hosts = [1, 2, 3].map((n) => net.add(n, { capabilities: CAPS, limits: { ...LIMITS, maxConcurrentTasks: 2 } }));
    const jobId = net.submit(0, job(6, { requirements: { peers: 1 } }));
    expect(hosts.filter((h) => h.runningTasks().length > 0)).toHaveLength(1);
    expect(sub.jobProgress(jobId)).toMatchObject({ hosts: 1, running: 2 });
    expect(sub.forgetJob(jobId)).toBe(false);
    for (let round = 0; round < 10 && sub.jobProgress(jobId)!.status === 'running'; round++) {
      for (const n of [1, 2, 3]) net.finish(n);
      expect(sub.jobProgress(jobId)!.hosts).toBeLessThanOrEqual(1);
      net.now += 3_000;
      net.tickAll();
    }
    expect(sub.jobProgress(jobId)!.status).toBe('completed');
    expect(sub.forgetJob(jobId)).toBe(true);
    expect(sub.jobProgress(jobId)).toBeNull();
  });

  it('a lease the host never asked for is released, and a result from a non-holder is ignored', () => {
    const net = new Net();
    const sub = net.add(0);
    const host = net.add(1, { capabilities: CAPS, limits: LIMITS });
    const out = host.onMessage(net.ctx(1), id(7), {
      v: 2, t: 'lease', jobId: '00000000000000aa', lease: 0, task: 0, spec: { args: [], env: {}, stdin: '' },
      image: { kind: 'wasi', sha256: HASH, size: 100 }, timeLimitMs: 1000, outputLimits: { stdoutBytes: 1, stderrBytes: 1 },
    });
    expect(out[0]).toMatchObject({ to: id(7), msg: { t: 'release', code: 'E_UNKNOWN_JOB' } });
    expect(host.takeRunRequests()).toEqual([]);
    const jobId = net.submit(0, job(1));
    sub.onMessage(net.ctx(0), id(5), { v: 2, t: 'result', jobId, lease: 0, digest: 'forged', ok: true, exitCode: 0, code: null, stdout: '', stderr: '', durationMs: 1 });
    expect(sub.ignored).toBe(1);
    expect(sub.jobProgress(jobId)!.accepted).toBe(0);
  });

  it('announcements travel at most hopLimit hops and each node forwards a round once', () => {
    const net = new Net();
    // A line 0 → 1 → 2 → 3 → 4: each node's view is its successor only.
    for (let n = 0; n <= 4; n++) net.add(n, { view: viewOf(() => (n < 4 ? [id(n + 1)] : [])), fanout: 1, hopLimit: 2, capabilities: n > 0 ? CAPS : null });
    net.submit(0, job(1));
    const announced = net.sent.filter((m) => m.msg.t === 'announce').map((m) => m.to);
    expect(announced).toEqual([id(1), id(2), id(3)]);
  });
});
