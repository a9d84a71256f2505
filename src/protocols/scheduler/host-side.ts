/**
 * The host's side of the publish/subscribe scheduler (UCComp's *service subscription*: a node takes in a
 * pending request and attends to it). A host that qualifies for an announced job subscribes and PULLS task
 * copies while it has free slots under its lender's limits; it never receives work it did not ask for.
 * Running is the runtime's business: leased copies become `RunRequest`s (`takeRunRequests()`), and the
 * runtime reports back through `complete` or `abandon`. Revoked or cancelled copies are listed for the runtime
 * to kill (`takeCancelledRuns()`).
 *
 * Slots: running copies + slots asked for in unanswered pulls ≤ maxConcurrentTasks. A pull is answered by up
 * to `slots` leases and, if fewer, a `no-work`; an unanswered pull is forgotten after `pullTimeoutMs`.
 *
 * Slices: a job on a slice is subscribed only while this host is a member of it; once the host's membership
 * changes (`setCapabilities`), the next `pullDue` hands that job's running copies back (E_LEFT_SLICE) and drops
 * the subscription, so the submitter re-runs them on another member. A later announcement round may
 * subscribe the host again if it rejoins.
 */
import type { PeerId } from '../../core/ids.ts';
import { SCHEDULER_WIRE_VERSION as V, MAX_PULL_SLOTS, type AnnounceMessage, type LeaseMessage, type PullMessage } from '../../wire/scheduler.ts';
import { qualifies, type HostCapabilities, type LenderLimits } from './host-match.ts';
import { SchedulerErrors, type Outgoing, type RunRequest, type RunResult, type TaskKey } from './types.ts';

export interface HostOptions {
  /** Wait after a `no-work` before asking that job again. */
  readonly pullRetryMs: number;
  /** An unanswered pull is forgotten after this (its message or answer was lost). */
  readonly pullTimeoutMs: number;
}

interface Subscription {
  readonly jobId: string;
  readonly submitter: PeerId;
  /** The job's slice, if it runs on one. */
  readonly slice: string | undefined;
  /** Slots asked for and not yet answered. */
  reserved: number;
  pulledAt: number;
  nextPullAt: number;
}

interface Running {
  readonly request: RunRequest;
  readonly lease: number;
}

/** Jobs this host is done with, remembered so later announcement rounds do not resubscribe it. */
const MAX_FINISHED_REMEMBERED = 1024;

export class HostSide {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly running = new Map<TaskKey, Running>();
  private readonly finished = new Set<string>();
  private runQueue: RunRequest[] = [];
  private cancelled: TaskKey[] = [];

  constructor(
    private caps: HostCapabilities | null,
    private limits: LenderLimits,
    private readonly options: HostOptions,
  ) {}

  get lenderLimits(): LenderLimits {
    return this.limits;
  }

  setCapabilities(caps: HostCapabilities | null): void {
    this.caps = caps;
  }

  /** New limits; pausing hands every running copy back to its submitter. */
  setLimits(limits: LenderLimits): Outgoing[] {
    this.limits = limits;
    if (!limits.paused) return [];
    const out: Outgoing[] = [];
    for (const [key, r] of [...this.running]) {
      out.push({ to: r.request.submitter, msg: { v: V, t: 'release', jobId: r.request.jobId, lease: r.lease, code: SchedulerErrors.HOST_PAUSED } });
      this.stop(key);
    }
    for (const s of this.subscriptions.values()) s.reserved = 0;
    return out;
  }

  /** Copies running (or waiting to be started by the runtime) on this host. */
  runningTasks(): RunRequest[] {
    return [...this.running.values()].map((r) => r.request);
  }

  subscribedJobs(): string[] {
    return [...this.subscriptions.keys()];
  }

  takeRunRequests(): RunRequest[] {
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
    this.subscriptions.set(msg.jobId, { jobId: msg.jobId, submitter: msg.submitter, slice: msg.slice, reserved: 0, pulledAt: 0, nextPullAt: now });
    return this.pullDue(now);
  }

  onLease(from: PeerId, msg: LeaseMessage): Outgoing[] {
    const sub = this.subscriptions.get(msg.jobId);
    const release = (code: string): Outgoing[] => [{ to: from, msg: { v: V, t: 'release', jobId: msg.jobId, lease: msg.lease, code } }];
    if (!sub || sub.submitter !== from) return release(SchedulerErrors.UNKNOWN_JOB);
    const key = `${msg.jobId}:${msg.lease}`;
    if (this.running.has(key)) return [];
    if (sub.reserved > 0) sub.reserved--;
    if (this.limits.paused) return release(SchedulerErrors.HOST_PAUSED);
    if (this.running.size >= this.limits.maxConcurrentTasks) return release(SchedulerErrors.HOST_BUSY);
    const request: RunRequest = {
      key, jobId: msg.jobId, submitter: from, task: msg.task, spec: msg.spec, image: msg.image,
      timeLimitMs: msg.timeLimitMs, outputLimits: msg.outputLimits, cpuCapPercent: this.limits.cpuCapPercent,
    };
    this.running.set(key, { request, lease: msg.lease });
    this.runQueue.push(request);
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
  }

  onRevoke(from: PeerId, jobId: string, lease: number): void {
    const key = `${jobId}:${lease}`;
    if (this.running.get(key)?.request.submitter === from) this.stop(key);
  }

  onCancel(from: PeerId, jobId: string): void {
    const sub = this.subscriptions.get(jobId);
    if (sub && sub.submitter !== from) return;
    for (const [key, r] of [...this.running]) if (r.request.jobId === jobId && r.request.submitter === from) this.stop(key);
    this.unsubscribe(jobId);
  }

  /** The submitter is gone: nobody will take the results. */
  onPeerDown(peer: PeerId): void {
    for (const [key, r] of [...this.running]) if (r.request.submitter === peer) this.stop(key);
    for (const sub of [...this.subscriptions.values()]) if (sub.submitter === peer) this.unsubscribe(sub.jobId);
  }

  /** The runtime finished a copy: the result goes to the submitter, and the freed slot asks for more. */
  complete(now: number, key: TaskKey, result: RunResult): Outgoing[] {
    const r = this.running.get(key);
    if (!r) return [];
    this.running.delete(key);
    const msg = {
      v: V, t: 'result', jobId: r.request.jobId, lease: r.lease, digest: result.digest, ok: result.ok,
      exitCode: result.exitCode, code: result.code, stdout: result.stdout, stderr: result.stderr, durationMs: result.durationMs,
    } as const;
    return [{ to: r.request.submitter, msg }, ...this.pullDue(now)];
  }

  /** The runtime cannot finish a copy (sandbox failure, image unavailable): hand it back. */
  abandon(key: TaskKey, code: string): Outgoing[] {
    const r = this.running.get(key);
    if (!r) return [];
    this.running.delete(key);
    return [{ to: r.request.submitter, msg: { v: V, t: 'release', jobId: r.request.jobId, lease: r.lease, code } }];
  }

  /** Pulls for every subscribed job that is due, while slots are free (after leaving jobs of a slice we left). */
  pullDue(now: number): Outgoing[] {
    const out: Outgoing[] = this.leaveForeignSlices();
    if (this.limits.paused || !this.caps) return out;
    let reserved = 0;
    for (const sub of this.subscriptions.values()) {
      if (sub.reserved > 0 && now - sub.pulledAt >= this.options.pullTimeoutMs) sub.reserved = 0;
      reserved += sub.reserved;
    }
    let free = this.limits.maxConcurrentTasks - this.running.size - reserved;
    for (const sub of this.subscriptions.values()) {
      if (free <= 0) break;
      if (sub.reserved > 0 || now < sub.nextPullAt) continue;
      const slots = Math.min(free, MAX_PULL_SLOTS);
      sub.reserved = slots;
      sub.pulledAt = now;
      free -= slots;
      out.push({ to: sub.submitter, msg: { v: V, t: 'pull', jobId: sub.jobId, slots, caps: wireCaps(this.caps) } });
    }
    return out;
  }

  /** Hands back copies of jobs whose slice this host no longer belongs to, and forgets those subscriptions. */
  private leaveForeignSlices(): Outgoing[] {
    const out: Outgoing[] = [];
    const mine = this.caps?.slice ?? null;
    for (const sub of [...this.subscriptions.values()]) {
      if (sub.slice === undefined || sub.slice === mine) continue;
      for (const [key, r] of [...this.running]) {
        if (r.request.jobId !== sub.jobId) continue;
        out.push({ to: r.request.submitter, msg: { v: V, t: 'release', jobId: sub.jobId, lease: r.lease, code: SchedulerErrors.LEFT_SLICE } });
        this.stop(key);
      }
      this.subscriptions.delete(sub.jobId);
    }
    return out;
  }

  private stop(key: TaskKey): void {
    if (!this.running.delete(key)) return;
    const queued = this.runQueue.findIndex((r) => r.key === key);
    if (queued >= 0) this.runQueue.splice(queued, 1);
    else this.cancelled.push(key);
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
