/**
 * Seeded simulations of the publish/subscribe scheduler over Cyclon peer sampling (cycle engine, 1 s cycles).
 * Each node runs [Cyclon, scheduler]; the scheduler is wrapped in SimulatedRuntime, which takes run requests
 * and completes them 1–3 simulated seconds later — the part a real peer does in a sandbox.
 */
import { describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import { Cyclon } from '../../src/protocols/peer-sampling/cyclon.ts';
import type { HostCapabilities } from '../../src/protocols/scheduler/host-match.ts';
import { Scheduler, type SchedulerOptions } from '../../src/protocols/scheduler/scheduler.ts';
import type { JobProgress, TaskOutcome } from '../../src/protocols/scheduler/types.ts';
import { SimulatedRuntime, type HostBehaviour } from '../../src/protocols/scheduler/sim-runtime.ts';
import { bootstrapRandom } from '../../src/sim/churn.ts';
import { CycleEngine } from '../../src/sim/cycle-engine.ts';
import { SimNetwork, type SimNode } from '../../src/sim/network.ts';
import { memoryTransport, withLoss } from '../../src/sim/transport.ts';
import { createRng } from '../../src/core/rng.ts';

const HASH = 'ab'.repeat(32);
const CAPS: HostCapabilities = { cores: 4, ramMB: 4096, gpuMemoryMB: 0, diskMB: 10_000, kinds: ['wasi'] };

interface World {
  network: SimNetwork;
  engine: CycleEngine;
  submitter: SimNode;
  hosts: SimNode[];
  app(node: SimNode): SimulatedRuntime;
}

const TUNING: Partial<SchedulerOptions> = { leaseGraceMs: 2_000, announceIntervalMs: 3_000, pullRetryMs: 1_000, pullTimeoutMs: 4_000, fanout: 4, hopLimit: 3 };

type HostSetup = (i: number) => { caps?: HostCapabilities; behaviour?: HostBehaviour; slots?: number };

function world(seed: number, hostCount: number, host: HostSetup = () => ({}), lossRate = 0): World {
  const transport = lossRate > 0 ? withLoss(memoryTransport(), createRng(seed ^ 0x5eed), lossRate) : memoryTransport();
  const network = new SimNetwork({ seed, transport });
  const engine = new CycleEngine(network, { cycleMs: 1_000 });
  const make = (caps: HostCapabilities | null, behaviour: HostBehaviour, slots: number) => () => {
    const cyclon = new Cyclon({ viewSize: 12, shuffleLength: 5 });
    const scheduler = new Scheduler({ view: cyclon, capabilities: caps, limits: { maxConcurrentTasks: slots, cpuCapPercent: 100, paused: false }, ...TUNING });
    return [cyclon, new SimulatedRuntime(scheduler, behaviour)];
  };
  const submitter = network.addNode(make(null, 'honest', 0));
  const hosts = Array.from({ length: hostCount }, (_, i) => {
    const h = host(i);
    return network.addNode(make(h.caps ?? CAPS, h.behaviour ?? 'honest', h.slots ?? 2));
  });
  bootstrapRandom(network, 6);
  engine.run(10); // let the views mix
  return { network, engine, submitter, hosts, app: (node) => node.protocols[1] as SimulatedRuntime };
}

function submit(w: World, tasks: number, over: Record<string, unknown> = {}): string {
  const app = w.app(w.submitter);
  const r = app.scheduler.submit({ self: w.submitter.id, now: w.network.now, rng: w.submitter.rng }, {
    image: { kind: 'wasi', sha256: HASH, size: 4096 },
    tasks: Array.from({ length: tasks }, (_, i) => ({ args: ['work', String(i)], env: {}, stdin: '' })),
    timeLimitMs: 5_000,
    ...over,
  });
  if (!r.ok) throw new Error(r.reason);
  app.queue(r.effects);
  return r.jobId;
}

/** Runs until the job is no longer running (or the cycle budget is spent), collecting outcomes. */
function runJob(w: World, jobId: string, maxCycles: number, each?: (cycle: number) => void): { outcomes: TaskOutcome[]; progress: JobProgress; cycles: number } {
  const sched = w.app(w.submitter).scheduler;
  const outcomes: TaskOutcome[] = [];
  let cycles = 0;
  while (cycles < maxCycles && sched.jobProgress(jobId)!.status === 'running') {
    w.engine.run(1);
    cycles++;
    outcomes.push(...sched.takeOutcomes());
    each?.(cycles);
  }
  outcomes.push(...sched.takeOutcomes());
  return { outcomes, progress: sched.jobProgress(jobId)!, cycles };
}

/** Every outcome is backed by k agreeing votes from k distinct hosts. */
function expectQuorum(outcomes: TaskOutcome[], k: number): void {
  for (const o of outcomes) {
    if (o.status !== 'accepted') continue;
    expect(new Set(o.agreeing).size).toBe(o.agreeing.length);
    expect(o.agreeing.length).toBeGreaterThanOrEqual(k);
  }
}

describe('scheduler simulation', () => {
  it.each([11, 12, 13])('100 tasks over 50 hosts, 20%% of hosts crash mid-run: every task is accepted exactly once, correctly (seed %i)', (seed) => {
    const w = world(seed, 50);
    const jobId = submit(w, 100);
    const dead = new Set<PeerId>();
    let acceptedBeforeCrash = -1;
    const { outcomes, progress, cycles } = runJob(w, jobId, 120, () => {
      const now = w.app(w.submitter).scheduler.jobProgress(jobId)!;
      if (acceptedBeforeCrash >= 0 || now.accepted < 10) return;
      // Mid-run: some tasks done, many leased out.
      acceptedBeforeCrash = now.accepted;
      expect(now.running).toBeGreaterThan(20);
      for (const h of w.network.rng.sample(w.hosts, 10)) {
        w.network.removeNode(h.id);
        dead.add(h.id);
      }
    });
    expect(progress).toMatchObject({ status: 'completed', accepted: 100, failed: 0 });
    expect(cycles).toBeLessThan(120);
    expect(outcomes).toHaveLength(100);
    expect(new Set(outcomes.map((o) => o.task)).size).toBe(100);
    for (const o of outcomes) {
      expect(o.status).toBe('accepted');
      expect(o.digest).toBe(`sha256:${jobId}:${o.task}:work ${o.task}`);
    }
    // After the crash, results only come from survivors.
    expect(acceptedBeforeCrash).toBeGreaterThanOrEqual(10);
    expect(acceptedBeforeCrash).toBeLessThan(50);
    for (const o of outcomes.slice(acceptedBeforeCrash)) for (const a of o.agreeing) expect(dead.has(a)).toBe(false);
    expectQuorum(outcomes, 1);
    // The crash really cost work: some tasks had to be re-leased.
    const sched = w.app(w.submitter).scheduler;
    expect(sched.taskProgress(jobId).some((t) => t.losses > 0)).toBe(true);
  });

  it.each([23, 24])('2-of-3 over 30 hosts with 3 liars (seed %i): every task gets the honest digest, and only liars are suspects', (SEED) => {
    const liars = new Set([0, 7, 19]);
    const w = world(SEED, 30, (i) => ({ behaviour: liars.has(i) ? 'liar' : 'honest' }));
    const liarIds = new Set([...liars].map((i) => w.hosts[i]!.id));
    const jobId = submit(w, 40, { redundancy: { n: 3, k: 2 } });
    const { outcomes, progress } = runJob(w, jobId, 150);
    expect(progress).toMatchObject({ status: 'completed', accepted: 40 });
    expect(outcomes.every((o) => o.digest === `sha256:${jobId}:${o.task}:work ${o.task}`)).toBe(true);
    expectQuorum(outcomes, 2);
    for (const o of outcomes) for (const a of o.agreeing) expect(liarIds.has(a)).toBe(false);
    expect(progress.suspects.length).toBeGreaterThan(0);
    for (const s of progress.suspects) expect(liarIds.has(s)).toBe(true);
    // Distinct hosts per task: no host ran two copies of one task.
    for (let t = 0; t < 40; t++) {
      const hostsOfTask = w.hosts.filter((h) => w.app(h).ran.some((r) => r.task === t));
      const copies = w.hosts.reduce((n, h) => n + w.app(h).ran.filter((r) => r.task === t).length, 0);
      expect(copies).toBe(hostsOfTask.length);
    }
  });

  it('requirements filter hosts: a host without enough RAM never runs a task', () => {
    const w = world(5, 30, (i) => ({ caps: { ...CAPS, ramMB: i % 2 === 0 ? 512 : 8192 } }));
    const jobId = submit(w, 30, { requirements: { ramMB: 2048 } });
    const { progress } = runJob(w, jobId, 100);
    expect(progress).toMatchObject({ status: 'completed', accepted: 30 });
    const small = w.hosts.filter((_, i) => i % 2 === 0);
    const big = w.hosts.filter((_, i) => i % 2 === 1);
    for (const h of small) expect(w.app(h).ran).toEqual([]);
    expect(big.filter((h) => w.app(h).ran.length > 0).length).toBeGreaterThan(3);
  });

  it('never accepts without k agreeing digests: hosts that each answer differently fail every task E_NO_QUORUM', () => {
    const w = world(31, 20, () => ({ behaviour: 'random' }));
    const jobId = submit(w, 5, { redundancy: { n: 3, k: 2 } });
    const { outcomes, progress } = runJob(w, jobId, 150);
    expect(progress).toMatchObject({ status: 'failed', accepted: 0, failed: 5 });
    expect(outcomes.map((o) => o.error)).toEqual(Array(5).fill('E_NO_QUORUM'));
    for (const t of w.app(w.submitter).scheduler.taskProgress(jobId)) expect(t.votes).toBe(6);
  });

  it('5% message loss: lost pulls, leases and results are recovered by timeouts; all 60 tasks accepted once', () => {
    const w = world(41, 30, () => ({}), 0.05);
    const jobId = submit(w, 60, { redundancy: { n: 3, k: 2 } });
    const { outcomes, progress } = runJob(w, jobId, 200);
    expect(w.network.stats.lost).toBeGreaterThan(0);
    expect(progress).toMatchObject({ status: 'completed', accepted: 60, failed: 0 });
    expect(new Set(outcomes.map((o) => o.task)).size).toBe(60);
    expectQuorum(outcomes, 2);
  });

  it('is deterministic by seed', () => {
    const trace = () => {
      const w = world(77, 20);
      const jobId = submit(w, 30);
      const { outcomes, cycles } = runJob(w, jobId, 100);
      return { cycles, order: outcomes.map((o) => `${o.task}@${o.agreeing.join()}`), sent: w.network.stats.sent };
    };
    expect(trace()).toEqual(trace());
  });
});
