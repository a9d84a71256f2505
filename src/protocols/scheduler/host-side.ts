/**
 * The host's side of the publish/subscribe scheduler (UCComp's *service subscription*: a node takes in a
 * pending request and attends to it). A host that qualifies for an announced job subscribes and PULLS task
 * copies while it has room under its lender's limits; it never receives work it did not ask for.
 * Running is the runtime's business: leased copies become `RunRequest`s (`takeRunBatches()`), and the
 * runtime reports back through `complete` or `abandon`. Revoked or cancelled copies are listed for the runtime
 * to kill (`takeCancelledRuns()`).
 *
 * Slots: the runtime gets copies in batches (`takeRunBatches`), one slot each, and runs a batch's copies one
 * after another, so at most maxConcurrentTasks copies run at once. Batch leases: once a job's copies are known
 * to be short, a host holds more leases than slots — up to `maxConcurrentTasks × (1 + extra)`, where `extra`
 * is how many more copies per slot run in `prefetchBudgetMs` at the measured wall time per copy (at most
 * `maxPrefetch − 1`) — and a freed slot takes up to `1 + extra` waiting copies of one job at once (one sandbox
 * round trip for all of them) instead of one copy per pull's round trip; the host pulls again when half its
 * room is free rather than once per result. A held copy waits about `prefetchBudgetMs` at most before it
 * runs, well inside its lease (time limit + grace). Held copies count as this host's: revoked, cancelled,
 * paused or left-slice ones are handed back or dropped like running ones, and if the host dies or goes
 * silent the submitter re-leases every one of them (SubmitterBook.onPeerDown / expire).
 * A pull is answered by up to `slots` leases and, if fewer, a `no-work`; an unanswered pull is forgotten after
 * `pullTimeoutMs`.
 *
 * Slices: a job on a slice is subscribed only while this host is a member of it; once the host's membership
 * changes (`setCapabilities`), the next `pullDue` hands that job's copies back (E_LEFT_SLICE) and drops
 * the subscription, so the submitter re-runs them on another member. A later announcement round may
 * subscribe the host again if it rejoins.
 */
import type { PeerId } from '../../core/ids.ts';
import { SCHEDULER_WIRE_VERSION as V, MAX_PULL_SLOTS, type AnnounceMessage, type LeaseMessage, type PullMessage } from '../../wire/scheduler.ts';
import { qualifies, type HostCapabilities, type LenderLimits } from './host-match.ts';
import { SchedulerErrors, type FinishedRun, type Outgoing, type RunRequest, type TaskKey } from './types.ts';

export interface HostOptions {
  /** Wait after a `no-work` before asking that job again. */
  readonly pullRetryMs: number;
  /** An unanswered pull is forgotten after this (its message or answer was lost). */
  readonly pullTimeoutMs: number;
  /** Most leases held per slot (1 = no batch leases). Default DEFAULT_MAX_PREFETCH. */
  readonly maxPrefetch?: number;
  /** Held copies per slot are sized to run in about this long. Default 500 ms. */
  readonly prefetchBudgetMs?: number;
}

interface Subscription {
  readonly jobId: string;
  readonly submitter: PeerId;
  /** The job's slice, if it runs on one. */
  readonly slice: string | undefined;
  /** Each task runs on several hosts and is decided by vote: no batch leases (see room()). */
  readonly voted: boolean;
  /** Slots asked for and not yet answered. */
  reserved: number;
  pulledAt: number;
  nextPullAt: number;
  /** Mean wall time of this job's copies here (handed to the runtime → completed), ms; null until one ends. */
  meanMs: number | null;
  /** Whether a warm batch of this job (see Batch.cold) has ended here. */
  warmTimed: boolean;
}

/** Copies of one job handed to the runtime together to run one after another in one slot (one sandbox call). */
interface Batch {
  readonly keys: Set<TaskKey>;
  readonly startedAt: number;
  completed: number;
  /** Handed out before any batch of its job ended here: its time includes the runtime's start-up for the job. */
  readonly cold: boolean;
}

interface Held {
  readonly request: RunRequest;
  readonly lease: number;
  /** The batch it was handed to the runtime in; null while it waits for a free slot. */
  batch: Batch | null;
}

/**
 * Leases held per slot at most once a job's copies prove short. 8 rather than 4: with tiny copies the batch was
 * always capped here, and halving the per-batch round trips (pull, leases, sandbox call, results, credit) per copy
 * measured 302 vs 164 tasks/s on the browser dispatch bench (docs/BENCHMARKS.md); the 500 ms budget still sizes
 * batches of longer copies.
 */
export const DEFAULT_MAX_PREFETCH = 8;
/** Jobs this host is done with, remembered so later announcement rounds do not resubscribe it. */
const MAX_FINISHED_REMEMBERED = 1024;
/** Weight of the newest copy in a job's mean time per copy. */
const MEAN_WEIGHT = 0.25;

export class HostSide {
  private readonly subscriptions = new Map<string, Subscription>();
  /** Every copy leased to this host, running or waiting for a slot. */
  private readonly held = new Map<TaskKey, Held>();
  /** Leased copies waiting for a slot, in lease order. */
  private waiting: TaskKey[] = [];
  /** Batches out with the runtime; each holds one slot. */
  private started = 0;
  private readonly finished = new Set<string>();
  private runQueue: RunRequest[][] = [];
  private cancelled: TaskKey[] = [];
  private readonly maxPrefetch: number;
  private readonly prefetchBudgetMs: number;

  constructor(
    private caps: HostCapabilities | null,
    private limits: LenderLimits,
    private readonly options: HostOptions,
  ) {
    this.maxPrefetch = Math.max(1, Math.floor(options.maxPrefetch ?? DEFAULT_MAX_PREFETCH));
    this.prefetchBudgetMs = Math.max(0, options.prefetchBudgetMs ?? 500);
  }

  get lenderLimits(): LenderLimits {
    return this.limits;
  }

  setCapabilities(caps: HostCapabilities | null): void {
    this.caps = caps;
  }

  /** New limits; pausing hands every held copy back to its submitter. */
  setLimits(now: number, limits: LenderLimits): Outgoing[] {
    this.limits = limits;
    if (!limits.paused) {
      this.promote(now);
      return [];
    }
    const out: Outgoing[] = [];
    for (const [key, r] of [...this.held]) {
      out.push({ to: r.request.submitter, msg: { v: V, t: 'release', jobId: r.request.jobId, lease: r.lease, code: SchedulerErrors.HOST_PAUSED } });
      this.stop(now, key);
    }
    for (const s of this.subscriptions.values()) s.reserved = 0;
    return out;
  }

  /** Copies leased to this host: running, handed to the runtime, or waiting for a slot. */
  runningTasks(): RunRequest[] {
    return [...this.held.values()].map((r) => r.request);
  }

  /** Copies leased and not yet handed to the runtime (batch leases waiting for a slot). */
  waitingTasks(): number {
    return this.waiting.length;
  }

  subscribedJobs(): string[] {
    return [...this.subscriptions.keys()];
  }

  /**
   * Copies to start now, in batches: each batch holds one slot and is run one copy after another (never more
   * than maxConcurrentTasks batches are out with the runtime at once). A batch is one job's copies.
   */
  takeRunBatches(): RunRequest[][] {
    const out = this.runQueue;
    this.runQueue = [];
    return out;
  }

  takeCancelledRuns(): TaskKey[] {
    const out = this.cancelled;
    this.cancelled = [];
    return out;
  }

  /** A job announcement reached us: subscribe (and pull at once) if we qualify. */
  onAnnounce(now: number, self: PeerId, msg: AnnounceMessage): Outgoing[] {
    if (msg.submitter === self || this.finished.has(msg.jobId) || this.subscriptions.has(msg.jobId)) return [];
    if (!this.caps || !qualifies(msg.image, msg.requirements, this.caps, this.limits.cpuCapPercent, msg.slice)) return [];
    this.subscriptions.set(msg.jobId, {
      jobId: msg.jobId, submitter: msg.submitter, slice: msg.slice, voted: (msg.copies ?? 1) > 1, reserved: 0, pulledAt: 0, nextPullAt: now, meanMs: null, warmTimed: false,
    });
    return this.pullDue(now);
  }

  onLease(now: number, from: PeerId, msg: LeaseMessage): Outgoing[] {
    const sub = this.subscriptions.get(msg.jobId);
    const release = (code: string): Outgoing[] => [{ to: from, msg: { v: V, t: 'release', jobId: msg.jobId, lease: msg.lease, code } }];
    if (!sub || sub.submitter !== from) return release(SchedulerErrors.UNKNOWN_JOB);
    const key = `${msg.jobId}:${msg.lease}`;
    if (this.held.has(key)) return [];
    const asked = sub.reserved > 0;
    if (asked) sub.reserved--;
    if (this.limits.paused) return release(SchedulerErrors.HOST_PAUSED);
    // A lease we asked for is kept even if the job's room shrank since (a slow copy raised its mean time).
    const cap = asked ? this.limits.maxConcurrentTasks * this.maxPrefetch : this.room(sub);
    if (this.held.size >= cap) return release(SchedulerErrors.HOST_BUSY);
    const request: RunRequest = {
      key, jobId: msg.jobId, submitter: from, task: msg.task, spec: msg.spec, image: msg.image,
      timeLimitMs: msg.timeLimitMs, outputLimits: msg.outputLimits, cpuCapPercent: this.limits.cpuCapPercent,
    };
    this.held.set(key, { request, lease: msg.lease, batch: null });
    this.waiting.push(key);
    // The leases answering one pull arrive back to back: batch them once the answer is complete.
    if (sub.reserved === 0) this.promote(now);
    return [];
  }

  onNoWork(now: number, from: PeerId, jobId: string, final: boolean): void {
    const sub = this.subscriptions.get(jobId);
    if (!sub || sub.submitter !== from) return;
    if (final) {
      this.unsubscribe(jobId);
      return;
    }
    sub.reserved = 0;
    sub.nextPullAt = now + this.options.pullRetryMs;
    this.promote(now);
  }

  onRevoke(now: number, from: PeerId, jobId: string, lease: number): void {
    const key = `${jobId}:${lease}`;
    if (this.held.get(key)?.request.submitter === from) this.stop(now, key);
  }

  onCancel(now: number, from: PeerId, jobId: string): void {
    const sub = this.subscriptions.get(jobId);
    if (sub && sub.submitter !== from) return;
    for (const [key, r] of [...this.held]) if (r.request.jobId === jobId && r.request.submitter === from) this.stop(now, key);
    this.unsubscribe(jobId);
  }

  /** The submitter is gone: nobody will take the results. */
  onPeerDown(now: number, peer: PeerId): void {
    for (const [key, r] of [...this.held]) if (r.request.submitter === peer) this.stop(now, key);
    for (const sub of [...this.subscriptions.values()]) if (sub.submitter === peer) this.unsubscribe(sub.jobId);
  }

  /**
   * The runtime finished copies (one, or a batch's together): each result goes to its submitter, waiting copies
   * take freed slots, and the room asks for more — one pull for all of them.
   */
  complete(now: number, done: readonly FinishedRun[]): Outgoing[] {
    const out: Outgoing[] = [];
    for (const { key, result } of done) {
      const r = this.held.get(key);
      if (!r?.batch) continue;
      r.batch.completed++;
      if (r.batch.keys.size === 1) {
        // The batch ends: its wall time per copy is what the next batches are sized by.
        const sub = this.subscriptions.get(r.request.jobId);
        // Cold batches (a sandbox started and the module compiled for them) only bound the time from above; the
        // first warm batch's time replaces theirs, so tiny copies reach full batches a few batches earlier.
        const ms = Math.max(0, now - r.batch.startedAt) / r.batch.completed;
        if (sub && r.batch.cold) sub.meanMs = sub.meanMs === null ? ms : Math.min(sub.meanMs, ms);
        else if (sub) {
          sub.meanMs = sub.meanMs === null || !sub.warmTimed ? ms : sub.meanMs + MEAN_WEIGHT * (ms - sub.meanMs);
          sub.warmTimed = true;
        }
      }
      this.stop(now, key, true);
      const msg = {
        v: V, t: 'result', jobId: r.request.jobId, lease: r.lease, digest: result.digest, ok: result.ok,
        exitCode: result.exitCode, code: result.code, stdout: result.stdout, stderr: result.stderr, durationMs: result.durationMs,
      } as const;
      out.push({ to: r.request.submitter, msg });
    }
    return out.length === 0 ? out : [...out, ...this.pullDue(now)];
  }

  /** The runtime cannot finish a copy (sandbox failure, image unavailable): hand it back. */
  abandon(now: number, key: TaskKey, code: string): Outgoing[] {
    const r = this.held.get(key);
    if (!r?.batch) return [];
    this.stop(now, key, true);
    return [{ to: r.request.submitter, msg: { v: V, t: 'release', jobId: r.request.jobId, lease: r.lease, code } }];
  }

  /** Pulls for every subscribed job that is due, while there is room (after leaving jobs of a slice we left). */
  pullDue(now: number): Outgoing[] {
    const out: Outgoing[] = this.leaveForeignSlices(now);
    if (this.limits.paused || !this.caps) return out;
    let reserved = 0;
    for (const sub of this.subscriptions.values()) {
      if (sub.reserved > 0 && now - sub.pulledAt >= this.options.pullTimeoutMs) sub.reserved = 0;
      reserved += sub.reserved;
    }
    this.promote(now); // copies of a pull whose answer never completed
    for (const sub of this.subscriptions.values()) {
      if (sub.reserved > 0 || now < sub.nextPullAt) continue;
      const room = this.room(sub);
      const free = room - this.held.size - reserved;
      if (free <= 0) continue;
      // Batch: with copies still waiting, ask again only once half the room is free.
      const idleSlot = this.waiting.length === 0 && this.started + reserved < this.limits.maxConcurrentTasks;
      if (!idleSlot && free < Math.ceil(room / 2)) continue;
      const slots = Math.min(free, MAX_PULL_SLOTS);
      sub.reserved = slots;
      sub.pulledAt = now;
      reserved += slots;
      out.push({ to: sub.submitter, msg: { v: V, t: 'pull', jobId: sub.jobId, slots, caps: wireCaps(this.caps) } });
    }
    return out;
  }

  /**
   * Copies this host may hold for a job: its slots, plus a batch of waiting ones once its copies prove short.
   * A voted job gets no batch: a batch's results return together at its end, while the quorum closes on the first
   * k agreeing votes, so batched votes would mostly come after their tasks were decided (checked, but not counted).
   */
  private room(sub: Subscription): number {
    const slots = this.limits.maxConcurrentTasks;
    if (sub.meanMs === null || this.maxPrefetch === 1 || sub.voted) return slots;
    const extra = Math.floor(this.prefetchBudgetMs / Math.max(1, sub.meanMs));
    return slots * (1 + Math.min(this.maxPrefetch - 1, extra));
  }

  /**
   * Hands waiting copies to the runtime while slots are free: each free slot takes the oldest waiting copy and up
   * to `room / slots − 1` more of the same job, so a slot's batch runs in about `prefetchBudgetMs`.
   */
  private promote(now: number): void {
    if (this.limits.paused) return;
    const slots = this.limits.maxConcurrentTasks;
    while (this.started < slots && this.waiting.length > 0) {
      const first = this.held.get(this.waiting[0]!)!;
      const sub = this.subscriptions.get(first.request.jobId);
      const size = sub ? Math.max(1, Math.floor(this.room(sub) / Math.max(1, slots))) : 1;
      const batch: Batch = { keys: new Set(), startedAt: now, completed: 0, cold: sub?.meanMs === null };
      const requests: RunRequest[] = [];
      const rest: TaskKey[] = [];
      for (const key of this.waiting) {
        const r = this.held.get(key)!;
        if (requests.length < size && r.request.jobId === first.request.jobId && r.request.submitter === first.request.submitter) {
          r.batch = batch;
          batch.keys.add(key);
          requests.push(r.request);
        } else {
          rest.push(key);
        }
      }
      this.waiting = rest;
      this.started++;
      this.runQueue.push(requests);
    }
  }

  /** Hands back copies of jobs whose slice this host no longer belongs to, and forgets those subscriptions. */
  private leaveForeignSlices(now: number): Outgoing[] {
    const out: Outgoing[] = [];
    const mine = this.caps?.slice ?? null;
    for (const sub of [...this.subscriptions.values()]) {
      if (sub.slice === undefined || sub.slice === mine) continue;
      for (const [key, r] of [...this.held]) {
        if (r.request.jobId !== sub.jobId) continue;
        out.push({ to: r.request.submitter, msg: { v: V, t: 'release', jobId: sub.jobId, lease: r.lease, code: SchedulerErrors.LEFT_SLICE } });
        this.stop(now, key);
      }
      this.subscriptions.delete(sub.jobId);
    }
    return out;
  }

  /**
   * Forgets a held copy: a waiting one is dropped; a handed-out one leaves its batch (and, unless it `finished`,
   * is killed), and the batch's slot frees once its last copy is gone.
   */
  private stop(now: number, key: TaskKey, finished = false): void {
    const r = this.held.get(key);
    if (!r) return;
    this.held.delete(key);
    const batch = r.batch;
    if (!batch) {
      this.waiting = this.waiting.filter((k) => k !== key);
      return;
    }
    batch.keys.delete(key);
    const group = this.runQueue.find((g) => g.some((q) => q.key === key));
    if (group) {
      group.splice(group.findIndex((q) => q.key === key), 1);
      if (group.length === 0) this.runQueue = this.runQueue.filter((g) => g !== group);
    } else if (!finished) {
      this.cancelled.push(key);
    }
    if (batch.keys.size > 0) return;
    this.started--;
    this.promote(now);
  }

  private unsubscribe(jobId: string): void {
    this.subscriptions.delete(jobId);
    this.finished.add(jobId);
    if (this.finished.size > MAX_FINISHED_REMEMBERED) {
      const oldest = this.finished.values().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }
}

function wireCaps(c: HostCapabilities): PullMessage['caps'] {
  return {
    cores: c.cores, ramMB: c.ramMB, gpuMemoryMB: c.gpuMemoryMB, diskMB: c.diskMB, kinds: [...c.kinds],
    ...(c.ranks ? { ranks: { ...c.ranks } } : {}),
    ...(c.slice ? { slice: c.slice } : {}),
  };
}
