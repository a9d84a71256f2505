/**
 * The publish/subscribe scheduler as one Protocol (UCComp host discovery: service publishing and service
 * subscription; P2PCS's dispatcher), holding both roles a peer can play:
 *
 *  - submitter: `submit` publishes a job as pending — an announcement to `fanout` peers of the peer-sampling
 *    view, gossiped on for `hopLimit` hops and re-published each `announceIntervalMs` while tasks still want
 *    hosts. It leases task copies to hosts that pull, re-leases lost ones and verifies results by quorum
 *    (see submitter.ts, quorum.ts). `cancel` withdraws the job.
 *  - host: qualifying hosts subscribe and pull under their lender's limits (host-side.ts). The runtime runs
 *    what `takeRunRequests()` gives it and reports with `completeRun` / `abandonRun`, which return effects.
 *
 * Pure: time and randomness come from the context; a peer is reached only through returned effects.
 * Leases answering one pull and results of one batch leave as one `leases` / `results` message per peer
 * (wire-batches.ts); received ones are handled entry by entry, in order.
 * Messages arrive already decoded by `decodeSchedulerMessage`; ones that make no sense in the current state
 * are dropped (a result for a lease its sender does not hold is counted in `ignored`) or answered (a lease
 * we did not ask for is released).
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import type { Rng } from '../../core/rng.ts';
import { SCHEDULER_WIRE_VERSION as V, MAX_ANNOUNCE_HOPS, type AnnounceMessage, type SchedulerMessage } from '../../wire/scheduler.ts';
import type { View } from '../peer-sampling/view.ts';
import { DEFAULT_LENDER_LIMITS, type HostCapabilities, type LenderLimits } from './host-match.ts';
import { HostSide } from './host-side.ts';
import { parseJobSpec, type BadJob, type JobSpec } from './job-model.ts';
import { SubmitterBook, type SubmittedJob } from './submitter.ts';
import type { FinishedRun, JobProgress, Outgoing, RunRequest, RunResult, TaskKey, TaskOutcome, TaskProgress } from './types.ts';
import { packOutgoing, unpackLeases, unpackResults } from './wire-batches.ts';

export interface SchedulerOptions {
  /** Where announcements go (Cyclon's view in production). */
  readonly view: View;
  /** What this peer can host; null or absent: it only submits. */
  readonly capabilities?: HostCapabilities | null;
  readonly limits?: LenderLimits;
  /** Peers each announcement is sent or forwarded to. Default 4. */
  readonly fanout?: number;
  /** Hops an announcement travels beyond the first. Default 4. */
  readonly hopLimit?: number;
  /** Re-publication period while tasks still want hosts. Default 10 s. */
  readonly announceIntervalMs?: number;
  /** Lease = task time limit + this. Default 20 s. */
  readonly leaseGraceMs?: number;
  /** Default 2 s. */
  readonly pullRetryMs?: number;
  /** Default 10 s. */
  readonly pullTimeoutMs?: number;
  /** Default 16. */
  readonly maxLeaseLosses?: number;
  /** Most leases a host holds per slot once its copies prove short (batch leases); 1 turns them off. Default 8. */
  readonly maxPrefetch?: number;
  /** A host sizes its batch of held copies to run in about this long. Default 500 ms (copies of 0.5 s or more get no batch). */
  readonly prefetchBudgetMs?: number;
  /** Votes a task may collect before it fails E_NO_QUORUM; default 2n (at least n + 1). */
  readonly maxVotes?: (n: number) => number;
}

export type Submitted = { readonly ok: true; readonly jobId: string; readonly effects: Effect<SchedulerMessage>[] } | BadJob;

/** Announcement rounds remembered per job id, for de-duplication. */
const MAX_SEEN_ANNOUNCEMENTS = 4096;

export class Scheduler implements Protocol<SchedulerMessage> {
  readonly name = 'scheduler';
  private readonly view: View;
  private readonly fanout: number;
  private readonly hopLimit: number;
  private readonly announceIntervalMs: number;
  private readonly book: SubmitterBook;
  private readonly host: HostSide;
  private readonly seen = new Map<string, number>();

  constructor(options: SchedulerOptions) {
    this.view = options.view;
    this.fanout = Math.max(1, options.fanout ?? 4);
    this.hopLimit = Math.min(MAX_ANNOUNCE_HOPS, Math.max(0, options.hopLimit ?? 4));
    this.announceIntervalMs = options.announceIntervalMs ?? 10_000;
    this.book = new SubmitterBook({
      leaseGraceMs: options.leaseGraceMs ?? 20_000,
      maxLeaseLosses: options.maxLeaseLosses ?? 16,
      ...(options.maxVotes ? { maxVotes: options.maxVotes } : {}),
    });
    this.host = new HostSide(options.capabilities ?? null, options.limits ?? DEFAULT_LENDER_LIMITS, {
      pullRetryMs: options.pullRetryMs ?? 2_000,
      pullTimeoutMs: options.pullTimeoutMs ?? 10_000,
      ...(options.maxPrefetch === undefined ? {} : { maxPrefetch: options.maxPrefetch }),
      ...(options.prefetchBudgetMs === undefined ? {} : { prefetchBudgetMs: options.prefetchBudgetMs }),
    });
  }

  // ── submitter API ──────────────────────────────────────────────────────────────────────────────

  /** Validates a job (E_BAD_JOB with the path of the first problem) and publishes it. */
  submit(ctx: ProtocolContext, raw: unknown): Submitted {
    const parsed = parseJobSpec(raw);
    if (!parsed.ok) return parsed;
    let jobId = randomJobId(ctx.rng);
    while (this.book.jobs.has(jobId)) jobId = randomJobId(ctx.rng);
    const job = this.book.add(jobId, parsed.value, ctx.now);
    this.seen.set(jobId, 0);
    return { ok: true, jobId, effects: this.publish(ctx, job) };
  }

  cancel(_ctx: ProtocolContext, jobId: string): Effect<SchedulerMessage>[] {
    return effects(this.book.cancel(jobId));
  }

  /** The slice's members as the cloud service knows them: copies held by others are revoked and re-leased. */
  setSliceMembers(_ctx: ProtocolContext, slice: string, members: readonly PeerId[]): Effect<SchedulerMessage>[] {
    return effects(this.book.setSliceMembers(slice, members));
  }

  /** The slice is gone: running jobs on it fail every unfinished task with `error` (E_SLICE_GONE). */
  failSlice(_ctx: ProtocolContext, slice: string, error: string): Effect<SchedulerMessage>[] {
    return effects(this.book.failSlice(slice, error));
  }

  /** Slices that running jobs submitted here run on. */
  activeSlices(): string[] {
    return this.book.activeSlices();
  }

  /** Drops a finished, failed or cancelled job from memory; a running job is kept (cancel it first). */
  forgetJob(jobId: string): boolean {
    const job = this.book.jobs.get(jobId);
    if (!job || job.status === 'running') return false;
    this.book.jobs.delete(jobId);
    return true;
  }

  jobSpec(jobId: string): JobSpec | undefined {
    return this.book.jobs.get(jobId)?.spec;
  }

  jobIds(): string[] {
    return [...this.book.jobs.keys()];
  }

  jobProgress(jobId: string): JobProgress | null {
    const job = this.book.jobs.get(jobId);
    if (!job) return null;
    const count = { pending: 0, running: 0, accepted: 0, failed: 0, cancelled: 0 };
    for (const p of this.taskStates(job)) count[p.state]++;
    return {
      jobId, status: job.status, total: job.tasks.length, ...count, leasesOut: job.leases.size,
      hosts: job.perHost.size, suspects: [...job.suspects],
    };
  }

  taskProgress(jobId: string): TaskProgress[] {
    const job = this.book.jobs.get(jobId);
    return job ? this.taskStates(job) : [];
  }

  /** Tasks accepted or failed since the last call, with the agreed result. */
  takeOutcomes(): TaskOutcome[] {
    return this.book.takeOutcomes();
  }

  /** Hosts named by a result that arrived after its task was accepted and disagreed with it (see submitter.ts). */
  takeLateSuspects(): { readonly jobId: string; readonly host: PeerId }[] {
    return this.book.takeLateSuspects();
  }

  // ── host API ───────────────────────────────────────────────────────────────────────────────────

  /** Copies to start now, one after another within each batch (one slot per batch). */
  takeRunBatches(): RunRequest[][] {
    return this.host.takeRunBatches();
  }

  /** The same copies as one list, for runtimes that start each copy at once (tests). */
  takeRunRequests(): RunRequest[] {
    return this.host.takeRunBatches().flat();
  }

  /** Runs the runtime must stop (revoked, cancelled, submitter gone, host paused). */
  takeCancelledRuns(): TaskKey[] {
    return this.host.takeCancelledRuns();
  }

  /** Copies leased to this host, started or waiting for a slot. */
  runningTasks(): RunRequest[] {
    return this.host.runningTasks();
  }

  /** Of those, copies waiting for a free slot (batch leases). */
  waitingTasks(): number {
    return this.host.waitingTasks();
  }

  /** Jobs this host is subscribed to (pulling from). */
  subscribedJobs(): string[] {
    return this.host.subscribedJobs();
  }

  completeRun(ctx: ProtocolContext, key: TaskKey, result: RunResult): Effect<SchedulerMessage>[] {
    return effects(this.host.complete(ctx.now, [{ key, result }]));
  }

  /** Several copies finished together (a batch): their results leave in one message per submitter and job. */
  completeRuns(ctx: ProtocolContext, done: readonly FinishedRun[]): Effect<SchedulerMessage>[] {
    return effects(this.host.complete(ctx.now, done));
  }

  abandonRun(ctx: ProtocolContext, key: TaskKey, code: string): Effect<SchedulerMessage>[] {
    return effects(this.host.abandon(ctx.now, key, code));
  }

  setLimits(ctx: ProtocolContext, limits: LenderLimits): Effect<SchedulerMessage>[] {
    return effects([...this.host.setLimits(ctx.now, limits), ...this.host.pullDue(ctx.now)]);
  }

  /** Results and releases dropped because their sender did not hold the lease. */
  get ignored(): number {
    return this.book.ignored;
  }

  get limits(): LenderLimits {
    return this.host.lenderLimits;
  }

  setCapabilities(caps: HostCapabilities | null): void {
    this.host.setCapabilities(caps);
  }

  // ── Protocol ───────────────────────────────────────────────────────────────────────────────────

  onTick(ctx: ProtocolContext): Effect<SchedulerMessage>[] {
    const out: Effect<SchedulerMessage>[] = effects(this.book.expire(ctx.now));
    for (const job of this.book.jobs.values()) {
      if (job.status === 'running' && job.needy.size > 0 && ctx.now - job.lastAnnounceAt >= this.announceIntervalMs) {
        job.round++;
        this.seen.set(job.id, job.round);
        out.push(...this.publish(ctx, job));
      }
    }
    out.push(...effects(this.host.pullDue(ctx.now)));
    return out;
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: SchedulerMessage): Effect<SchedulerMessage>[] {
    switch (msg.t) {
      case 'announce':
        return this.onAnnounce(ctx, from, msg);
      case 'pull':
        return effects(this.book.onPull(ctx.now, from, msg.jobId, msg.slots, msg.caps));
      case 'result':
        return effects(this.book.onResult(from, msg));
      case 'results':
        return effects(unpackResults(msg).flatMap((r) => this.book.onResult(from, r)));
      case 'release':
        return effects(this.book.onRelease(from, msg.jobId, msg.lease));
      case 'lease':
        return effects(this.host.onLease(ctx.now, from, msg));
      case 'leases':
        return effects(unpackLeases(msg).flatMap((l) => this.host.onLease(ctx.now, from, l)));
      case 'no-work':
        this.host.onNoWork(ctx.now, from, msg.jobId, msg.final);
        return [];
      case 'revoke':
        this.host.onRevoke(ctx.now, from, msg.jobId, msg.lease);
        return [];
      case 'cancel':
        this.host.onCancel(ctx.now, from, msg.jobId);
        return [];
    }
  }

  onPeerDown(ctx: ProtocolContext, peer: PeerId): Effect<SchedulerMessage>[] {
    this.host.onPeerDown(ctx.now, peer);
    return effects(this.book.onPeerDown(peer));
  }

  private onAnnounce(ctx: ProtocolContext, from: PeerId, msg: AnnounceMessage): Effect<SchedulerMessage>[] {
    const seen = this.seen.get(msg.jobId);
    if (seen !== undefined && seen >= msg.round) return [];
    this.remember(msg.jobId, msg.round);
    const out: Effect<SchedulerMessage>[] = [];
    if (msg.hops > 0) {
      const forward = { ...msg, hops: msg.hops - 1 };
      for (const to of this.targets(ctx, [from, msg.submitter])) out.push({ kind: 'send', to, msg: forward });
    }
    out.push(...effects(this.host.onAnnounce(ctx.now, ctx.self, msg)));
    return out;
  }

  private publish(ctx: ProtocolContext, job: SubmittedJob): Effect<SchedulerMessage>[] {
    job.lastAnnounceAt = ctx.now;
    const msg: AnnounceMessage = {
      v: V, t: 'announce', jobId: job.id, submitter: ctx.self, round: job.round, hops: this.hopLimit,
      image: job.spec.image, requirements: job.spec.requirements, timeLimitMs: job.spec.timeLimitMs,
      taskCount: job.spec.tasks.length, ...(job.spec.slice === undefined ? {} : { slice: job.spec.slice }),
      ...(job.spec.redundancy.n > 1 ? { copies: job.spec.redundancy.n } : {}),
    };
    return this.targets(ctx, []).map((to) => ({ kind: 'send', to, msg }));
  }

  private targets(ctx: ProtocolContext, exclude: readonly PeerId[]): PeerId[] {
    return this.view
      .sample(this.fanout + exclude.length + 1, ctx.rng)
      .filter((p) => p !== ctx.self && !exclude.includes(p))
      .slice(0, this.fanout);
  }

  private remember(jobId: string, round: number): void {
    this.seen.delete(jobId);
    this.seen.set(jobId, round);
    if (this.seen.size > MAX_SEEN_ANNOUNCEMENTS) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined && !this.book.jobs.has(oldest)) this.seen.delete(oldest);
    }
  }

  private taskStates(job: SubmittedJob): TaskProgress[] {
    return job.tasks.map((t, task) => ({
      task,
      state: t.status === 'open' ? (t.active.size > 0 ? 'running' : 'pending') : t.status,
      votes: t.votes.length, copiesOut: t.active.size, losses: t.losses, digest: t.digest, error: t.error,
    }));
  }
}

function effects(out: readonly Outgoing[]): Effect<SchedulerMessage>[] {
  return packOutgoing(out).map((o) => ({ kind: 'send', to: o.to, msg: o.msg }));
}

function randomJobId(rng: Rng): string {
  let id = '';
  for (let i = 0; i < 16; i++) id += '0123456789abcdef'[rng.int(16)];
  return id;
}
