/**
 * The submitter's side of the publish/subscribe scheduler (UCComp host discovery: a job is *published* as
 * pending and capable hosts *subscribe* to it). Hosts pull; the submitter leases each task copy to a host for
 * timeLimit + grace, each copy of a task to a distinct host; a lease that expires, is released, or whose host
 * goes down is handed out again; results are counted by `quorum.ts` until k digests agree.
 *
 * Pure bookkeeping: it returns the messages to send and never reads a clock; `now` comes from the caller.
 * Invariants: a task is accepted at most once, only with k agreeing digests from k distinct hosts; a host
 * never holds two copies of one task; nothing is leased for a job that is finished or cancelled; a job on a
 * slice is leased only to hosts that say they are members and, once the runtime has told it the slice's
 * members (`setSliceMembers`), are among them — copies held by a host that left are revoked and re-leased.
 */
import type { PeerId } from '../../core/ids.ts';
import type { LeaseMessage, ResultMessage, SchedulerMessage } from '../../wire/scheduler.ts';
import { SCHEDULER_WIRE_VERSION as V } from '../../wire/scheduler.ts';
import { qualifies, type HostCapabilities } from './host-match.ts';
import type { JobSpec } from './job-model.ts';
import { defaultMaxVotes, tally, type Vote } from './quorum.ts';
import type { Outgoing, TaskOutcome, TaskResult } from './types.ts';
import { SchedulerErrors } from './types.ts';

/** Copies of decided voted tasks whose late results a job still checks (bounds the memory a big voted job keeps). */
const MAX_LATE_VOTERS = 4096;

export interface SubmitterOptions {
  /** Added to a task's time limit to make its lease (transfer, sandbox start). */
  readonly leaseGraceMs: number;
  /** A task copy lost this often (expiry, host down) fails the task with E_TASK_LOST. */
  readonly maxLeaseLosses: number;
  /** Votes a task may collect; default 2n (at least n + 1). */
  readonly maxVotes?: (n: number) => number;
}

interface ActiveLease {
  readonly task: number;
  readonly host: PeerId;
  readonly expiresAt: number;
}

interface TaskState {
  status: 'open' | 'accepted' | 'failed' | 'cancelled';
  readonly votes: (Vote & { readonly result: TaskResult })[];
  /** Lease ids of copies out now. */
  readonly active: Set<number>;
  /** Hosts that hold a copy or voted (they get no other: one host, one vote); a copy lost unvoted frees its host. */
  readonly tried: Set<PeerId>;
  losses: number;
  digest: string | null;
  result: TaskResult | null;
  error: string | null;
}

export type JobStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface SubmittedJob {
  readonly id: string;
  readonly spec: JobSpec;
  readonly submittedAt: number;
  status: JobStatus;
  readonly tasks: TaskState[];
  readonly leases: Map<number, ActiveLease>;
  /** Open tasks that want more copies out, in the order they will be leased. */
  readonly needy: Set<number>;
  /** Active leases per host (for requirements.peers). */
  readonly perHost: Map<PeerId, number>;
  readonly suspects: Set<PeerId>;
  /**
   * Copies still out when their task was accepted (voted jobs only, at most MAX_LATE_VOTERS). They are not revoked:
   * like BOINC, every one of the n copies is checked, so a lying host that answers after the quorum closed is named.
   */
  readonly lateVoters: Map<number, { readonly task: number; readonly host: PeerId }>;
  nextLease: number;
  settled: number;
  lastAnnounceAt: number;
  round: number;
}

export class SubmitterBook {
  readonly jobs = new Map<string, SubmittedJob>();
  /** Results and releases for leases their sender does not hold (late, forged or duplicated). */
  ignored = 0;
  private outcomes: TaskOutcome[] = [];
  /** Hosts named by a late vote since the last call (the runtime shows them; no outcome changes). */
  private lateSuspects: { readonly jobId: string; readonly host: PeerId }[] = [];
  /** Members of each slice as the runtime last learnt them from the cloud service. */
  private readonly sliceMembers = new Map<string, ReadonlySet<PeerId>>();

  constructor(private readonly options: SubmitterOptions) {}

  add(id: string, spec: JobSpec, now: number): SubmittedJob {
    const job: SubmittedJob = {
      id, spec, submittedAt: now, status: 'running', leases: new Map(), needy: new Set(), perHost: new Map(),
      suspects: new Set(), lateVoters: new Map(), nextLease: 0, settled: 0, lastAnnounceAt: now, round: 0,
      tasks: spec.tasks.map(() => ({
        status: 'open', votes: [], active: new Set(), tried: new Set(), losses: 0, digest: null, result: null, error: null,
      })),
    };
    this.jobs.set(id, job);
    for (let i = 0; i < job.tasks.length; i++) this.review(job, i);
    return job;
  }

  /** Outcomes decided since the last call (for the runtime to show and store). */
  takeOutcomes(): TaskOutcome[] {
    const out = this.outcomes;
    this.outcomes = [];
    return out;
  }

  /** Hosts whose result for an already accepted task disagreed with it, since the last call. */
  takeLateSuspects(): { readonly jobId: string; readonly host: PeerId }[] {
    const out = this.lateSuspects;
    this.lateSuspects = [];
    return out;
  }

  /** Answers a host's pull: up to `slots` leases, then `no-work` if fewer were available. */
  onPull(now: number, host: PeerId, jobId: string, slots: number, caps: HostCapabilities): Outgoing[] {
    const job = this.jobs.get(jobId);
    const final = (): Outgoing[] => [{ to: host, msg: { v: V, t: 'no-work', jobId, final: true } }];
    if (!job) return final();
    if (job.status !== 'running') return final();
    if (!qualifies(job.spec.image, job.spec.requirements, caps, 100, job.spec.slice)) return final();
    if (!this.inSlice(job, host)) return final();
    const peersCap = job.spec.requirements.peers;
    const out: Outgoing[] = [];
    for (const task of job.needy) {
      if (out.length >= slots) break;
      if (peersCap !== undefined && !job.perHost.has(host) && job.perHost.size >= peersCap) break;
      const t = job.tasks[task]!;
      if (t.tried.has(host)) continue;
      out.push({ to: host, msg: this.lease(now, job, task, host) });
    }
    for (const o of out) this.review(job, (o.msg as LeaseMessage).task);
    if (out.length < slots) out.push({ to: host, msg: { v: V, t: 'no-work', jobId, final: false } });
    return out;
  }

  /**
   * The members of a slice changed (or are first known): leases of that slice's jobs held by hosts outside it
   * are revoked and their tasks handed out again, without counting as losses (the host did nothing wrong).
   */
  setSliceMembers(slice: string, members: readonly PeerId[]): Outgoing[] {
    const set = new Set(members);
    this.sliceMembers.set(slice, set);
    const out: Outgoing[] = [];
    for (const job of this.jobs.values()) {
      if (job.spec.slice !== slice || job.status !== 'running') continue;
      for (const [id, lease] of [...job.leases]) {
        if (set.has(lease.host)) continue;
        this.endLease(job, id);
        out.push({ to: lease.host, msg: { v: V, t: 'revoke', jobId: job.id, lease: id } }, ...this.review(job, lease.task));
      }
    }
    return out;
  }

  /**
   * The slice is gone (released, or no member left): every unfinished task of the running jobs on it fails with
   * `error` and copies out are revoked, so those jobs end failed instead of waiting for hosts forever.
   */
  failSlice(slice: string, error: string): Outgoing[] {
    const out: Outgoing[] = [];
    for (const job of this.jobs.values()) {
      if (job.spec.slice !== slice || job.status !== 'running') continue;
      job.tasks.forEach((t, task) => { if (t.status === 'open') out.push(...this.settle(job, task, 'failed', error, [])); });
    }
    return out;
  }

  /** Slices of running jobs (for the runtime to keep their member lists fresh). */
  activeSlices(): string[] {
    const slices = new Set<string>();
    for (const job of this.jobs.values()) if (job.status === 'running' && job.spec.slice !== undefined) slices.add(job.spec.slice);
    return [...slices];
  }

  private inSlice(job: SubmittedJob, host: PeerId): boolean {
    if (job.spec.slice === undefined) return true;
    return this.sliceMembers.get(job.spec.slice)?.has(host) ?? true;
  }

  onResult(host: PeerId, msg: ResultMessage): Outgoing[] {
    const job = this.jobs.get(msg.jobId);
    const lease = job?.leases.get(msg.lease);
    if (!job || !lease || lease.host !== host) {
      this.ignored++;
      if (job) this.checkLateVote(job, host, msg);
      return [];
    }
    this.endLease(job, msg.lease);
    const t = job.tasks[lease.task]!;
    if (t.status !== 'open') return [];
    const result: TaskResult = {
      ok: msg.ok, exitCode: msg.exitCode, code: msg.code, stdout: msg.stdout, stderr: msg.stderr, durationMs: msg.durationMs,
    };
    t.votes.push({ host, digest: msg.digest, result });
    return this.review(job, lease.task);
  }

  onRelease(host: PeerId, jobId: string, leaseId: number): Outgoing[] {
    const job = this.jobs.get(jobId);
    const lease = job?.leases.get(leaseId);
    if (!job || !lease || lease.host !== host) {
      this.ignored++;
      return [];
    }
    this.endLease(job, leaseId);
    job.tasks[lease.task]!.tried.delete(host); // it never voted: it may take this task another time
    return this.review(job, lease.task);
  }

  /** Leases held by a peer that went down are lost and handed out again. */
  onPeerDown(peer: PeerId): Outgoing[] {
    const out: Outgoing[] = [];
    for (const job of this.jobs.values()) {
      if (!job.perHost.has(peer)) continue;
      for (const [id, lease] of [...job.leases]) if (lease.host === peer) out.push(...this.lose(job, id, lease, false));
    }
    return out;
  }

  /** Expires overdue leases (the host is told to stop, in case it is alive but slow). */
  expire(now: number): Outgoing[] {
    const out: Outgoing[] = [];
    for (const job of this.jobs.values()) {
      if (job.status !== 'running') continue;
      for (const [id, lease] of [...job.leases]) if (lease.expiresAt <= now) out.push(...this.lose(job, id, lease, true));
    }
    return out;
  }

  cancel(jobId: string): Outgoing[] {
    const job = this.jobs.get(jobId);
    if (!job || job.status !== 'running') return [];
    job.status = 'cancelled';
    const hosts = new Set([...job.leases.values()].map((l) => l.host));
    for (const id of [...job.leases.keys()]) this.endLease(job, id);
    for (const t of job.tasks) if (t.status === 'open') t.status = 'cancelled';
    job.needy.clear();
    return [...hosts].map((to) => ({ to, msg: { v: V, t: 'cancel', jobId } }));
  }

  private lease(now: number, job: SubmittedJob, task: number, host: PeerId): SchedulerMessage {
    const id = job.nextLease++;
    job.leases.set(id, { task, host, expiresAt: now + job.spec.timeLimitMs + this.options.leaseGraceMs });
    job.perHost.set(host, (job.perHost.get(host) ?? 0) + 1);
    const t = job.tasks[task]!;
    t.active.add(id);
    t.tried.add(host);
    return {
      v: V, t: 'lease', jobId: job.id, lease: id, task, spec: job.spec.tasks[task]!, image: job.spec.image,
      timeLimitMs: job.spec.timeLimitMs, outputLimits: job.spec.outputLimits,
    };
  }

  private lose(job: SubmittedJob, id: number, lease: ActiveLease, tellHost: boolean): Outgoing[] {
    this.endLease(job, id);
    const t = job.tasks[lease.task]!;
    const out: Outgoing[] = tellHost ? [{ to: lease.host, msg: { v: V, t: 'revoke', jobId: job.id, lease: id } }] : [];
    if (t.status !== 'open') return out;
    // The host never voted on this task: it may take it again (else a cloud whose only capable host lost a copy
    // would never finish the task); MAX lease losses still bound a host that keeps losing it.
    if (!t.votes.some((v) => v.host === lease.host)) t.tried.delete(lease.host);
    t.losses++;
    if (t.losses > this.options.maxLeaseLosses) {
      return [...out, ...this.settle(job, lease.task, 'failed', SchedulerErrors.TASK_LOST, [])];
    }
    return [...out, ...this.review(job, lease.task)];
  }

  private endLease(job: SubmittedJob, id: number): void {
    const lease = job.leases.get(id);
    if (!lease) return;
    job.leases.delete(id);
    job.tasks[lease.task]!.active.delete(id);
    const held = (job.perHost.get(lease.host) ?? 1) - 1;
    if (held <= 0) job.perHost.delete(lease.host);
    else job.perHost.set(lease.host, held);
  }

  /** Re-tallies a task: accept, fail, or decide whether it wants more copies out. */
  private review(job: SubmittedJob, task: number): Outgoing[] {
    const t = job.tasks[task]!;
    if (t.status !== 'open') {
      job.needy.delete(task);
      return [];
    }
    const { n, k } = job.spec.redundancy;
    const maxVotes = this.options.maxVotes?.(n) ?? defaultMaxVotes(n);
    const verdict = tally(t.votes, t.active.size, { n, k, maxVotes });
    if (verdict.kind === 'accepted') {
      t.digest = verdict.digest;
      t.result = t.votes.find((v) => v.digest === verdict.digest)!.result;
      return this.settle(job, task, 'accepted', null, verdict.suspects);
    }
    if (verdict.kind === 'impossible') return this.settle(job, task, 'failed', SchedulerErrors.NO_QUORUM, verdict.suspects);
    if (verdict.replicasWanted > 0) job.needy.add(task);
    else job.needy.delete(task);
    return [];
  }

  /** A result for a copy still out when its task was accepted: a digest other than the accepted one names its host. */
  private checkLateVote(job: SubmittedJob, host: PeerId, msg: ResultMessage): void {
    const late = job.lateVoters.get(msg.lease);
    if (!late || late.host !== host) return;
    job.lateVoters.delete(msg.lease);
    const t = job.tasks[late.task]!;
    if (t.status !== 'accepted' || t.digest === null || msg.digest === t.digest || job.suspects.has(host)) return;
    job.suspects.add(host);
    this.lateSuspects.push({ jobId: job.id, host });
  }

  private settle(job: SubmittedJob, task: number, status: 'accepted' | 'failed', error: string | null, suspects: PeerId[]): Outgoing[] {
    const t = job.tasks[task]!;
    t.status = status;
    t.error = error;
    job.needy.delete(task);
    for (const s of suspects) job.suspects.add(s);
    const out: Outgoing[] = [];
    for (const id of [...t.active]) {
      const lease = job.leases.get(id)!;
      this.endLease(job, id);
      const checked = status === 'accepted' && job.spec.redundancy.n > 1 && job.lateVoters.size < MAX_LATE_VOTERS;
      if (checked) job.lateVoters.set(id, { task, host: lease.host });
      else out.push({ to: lease.host, msg: { v: V, t: 'revoke', jobId: job.id, lease: id } });
    }
    job.settled++;
    if (job.settled === job.tasks.length) {
      job.status = job.tasks.some((x) => x.status === 'failed') ? 'failed' : 'completed';
    }
    this.outcomes.push({
      jobId: job.id, task, status, digest: t.digest, result: t.result, error, suspects,
      agreeing: t.votes.filter((v) => t.digest !== null && v.digest === t.digest).map((v) => v.host),
    });
    return out;
  }
}
