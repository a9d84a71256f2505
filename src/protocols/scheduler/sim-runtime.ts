/**
 * A stand-in for the host runtime, for the simulator and benchmarks: it wraps a `Scheduler` under the same
 * protocol name, takes its run batches, "runs" each copy for 1..maxRunSeconds simulated seconds (a batch's
 * copies one after another) (from the node's
 * seeded rng) and reports a digest — the honest one, a forged one (a lying host) or one unique to the host
 * (a non-deterministic guest); copies that end by the same tick report together. Effects produced outside a
 * tick (submit, cancel) leave with the next tick.
 * Deterministic by seed like everything under the simulator; a removed node stops ticking, so its runs
 * never finish, as with a crashed peer.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import type { SchedulerMessage } from '../../wire/scheduler.ts';
import type { Scheduler } from './scheduler.ts';
import type { FinishedRun, RunRequest } from './types.ts';

export type HostBehaviour = 'honest' | 'liar' | 'random';

/** The digest an honest host reports: a function of the job and the task only. */
export function honestDigest(jobId: string, task: number, args: readonly string[]): string {
  return `sha256:${jobId}:${task}:${args.join(' ')}`;
}

export class SimulatedRuntime implements Protocol<SchedulerMessage> {
  readonly name: string;
  /** Every run request this host received, in order. */
  readonly ran: RunRequest[] = [];
  private readonly runs = new Map<string, { request: RunRequest; doneAt: number }>();
  private outbox: Effect<SchedulerMessage>[] = [];

  constructor(
    readonly scheduler: Scheduler,
    private readonly behaviour: HostBehaviour = 'honest',
    private readonly maxRunSeconds = 3,
  ) {
    this.name = scheduler.name;
  }

  /** Effects from outside a tick (submit, cancel) leave with the next tick. */
  queue(effects: Effect<SchedulerMessage>[]): void {
    this.outbox.push(...effects);
  }

  onTick(ctx: ProtocolContext): Effect<SchedulerMessage>[] {
    const out = this.outbox.concat(this.scheduler.onTick(ctx));
    this.outbox = [];
    // A batch's copies run one after another in its slot.
    for (const batch of this.scheduler.takeRunBatches()) {
      let at = ctx.now;
      for (const r of batch) {
        this.ran.push(r);
        at += 1_000 * (1 + ctx.rng.int(this.maxRunSeconds));
        this.runs.set(r.key, { request: r, doneAt: at });
      }
    }
    for (const key of this.scheduler.takeCancelledRuns()) this.runs.delete(key);
    // Copies that ended by this tick report together (one `results` message per submitter and job).
    const done: FinishedRun[] = [];
    for (const [key, run] of [...this.runs]) {
      if (run.doneAt > ctx.now) continue;
      this.runs.delete(key);
      const digest = this.digest(ctx.self, run.request);
      done.push({ key, result: { digest, ok: true, exitCode: 0, code: null, stdout: digest, stderr: '', durationMs: 1 } });
    }
    if (done.length > 0) out.push(...this.scheduler.completeRuns(ctx, done));
    return out;
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: SchedulerMessage): Effect<SchedulerMessage>[] {
    return this.scheduler.onMessage(ctx, from, msg);
  }

  onPeerDown(ctx: ProtocolContext, peer: PeerId): Effect<SchedulerMessage>[] {
    return this.scheduler.onPeerDown(ctx, peer);
  }

  private digest(self: PeerId, r: RunRequest): string {
    if (this.behaviour === 'honest') return honestDigest(r.jobId, r.task, r.spec.args);
    // Independent liars: each forges its own wrong digest (colluding liars are beyond k-of-n voting).
    if (this.behaviour === 'liar') return `sha256:forged-by-${self}`;
    return `sha256:${self}:${r.task}`;
  }
}
