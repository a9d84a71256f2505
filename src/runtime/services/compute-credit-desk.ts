/**
 * The compute service's credit at run time (issue #6): the ledger (compute-credit.ts), its persistence, and the
 * notices. As a submitter, for the tasks its quorum accepted it sends every agreeing host a `credit` notice —
 * one per host and job for the tasks accepted within CREDIT_NOTICE_GAP_MS, not one per task or result batch —
 * queued until a link comes up if there is none; suspects get nothing. As a host, it remembers the tasks it
 * reported and credits a notice only from the peer it ran that task for. Its snapshot part reports the node's
 * credit and the cloud totals: cloud-wide mean × estimated size of the summed values the ledger contributes (a
 * peer without one counts as 0, averaging.ts), null until aggregation has both, or for a partner whose value was
 * not among the few summed values the cloud keeps.
 */
import type { PeerId } from '../../core/ids.ts';
import type { RunRequest, TaskOutcome } from '../../protocols/scheduler/types.ts';
import type { ServiceDeps } from '../node-service.ts';
import { CREDIT_VALUE, CreditLedger, partnerValueName } from './compute-credit.ts';
import { CoalescedWriter, type CreditStore } from './compute-credit-store.ts';
import { creditDuration, CREDIT_WIRE_VERSION, encodeCreditNotices, MAX_CREDIT_TASKS, type CreditNotice } from './compute-credit-wire.ts';
import type { ComputeCredit } from './compute-types.ts';

/** Credit notices kept for a peer without a link, sent when it comes up. */
const MAX_QUEUED_NOTICES = 256;
/** Peers with queued notices at most (the oldest queue is dropped beyond). */
const MAX_QUEUED_PEERS = 256;

/** An encoded notice and how many tasks it credits (`noticesSent` counts tasks, as it did with one per frame). */
interface Notice {
  readonly frame: Uint8Array;
  readonly tasks: number;
}

/** Accepted tasks wait at most this long for the other tasks of their host's next notice. */
const CREDIT_NOTICE_GAP_MS = 500;
/** The ledger is written to storage at most this often (a notice arrives per batch of tasks, many a second). */
const CREDIT_SAVE_GAP_MS = 500;

type Deps = Pick<ServiceDeps, 'self' | 'sendFrame' | 'connect' | 'log' | 'changed' | 'averages' | 'estimatedSize'>;

export class CreditDesk {
  private readonly ledger = new CreditLedger();
  private readonly writer: CoalescedWriter | null;
  private readonly queued = new Map<PeerId, Notice[]>();
  /** Accepted tasks whose notice has not left yet, by host and job. */
  private readonly outbox = new Map<PeerId, Map<string, { task: number; durationMs: number }[]>>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private noticesSent = 0;

  constructor(private readonly deps: Deps, store: CreditStore | null) {
    this.writer = store ? new CoalescedWriter(store, (err) => deps.log('warn', `compute: could not save credit: ${String(err)}`), CREDIT_SAVE_GAP_MS) : null;
    store?.load().then((saved) => {
      if (saved !== undefined && !this.ledger.restore(saved)) deps.log('warn', 'compute: the saved credit ledger is not valid; starting from zero');
      deps.changed();
    }, (err: unknown) => deps.log('warn', `compute: could not read saved credit: ${String(err)}`));
  }

  /** This host reported a result for `request`: its submitter may credit it later. */
  reported(request: RunRequest): void {
    this.ledger.reported(request.submitter, request.jobId, request.task, request.timeLimitMs);
  }

  /**
   * Tells each host whose result the quorum accepted that it earned the tasks' time (suspects get nothing): the
   * tasks of `outcomes` join what waits for that host and job, and leave within CREDIT_NOTICE_GAP_MS as one notice
   * per host and job (at most MAX_CREDIT_TASKS tasks each; a full one leaves at once). While tiny tasks stream, a
   * notice per result batch was a frame through the submitter's edge for every few tasks.
   */
  grant(outcomes: readonly TaskOutcome[]): void {
    for (const o of outcomes) {
      if (o.status !== 'accepted') continue;
      const durationMs = creditDuration(o.result?.durationMs ?? 0);
      for (const host of new Set(o.agreeing)) {
        if (host === this.deps.self) {
          this.onNotice(host, { v: CREDIT_WIRE_VERSION, t: 'credit', jobId: o.jobId, task: o.task, durationMs });
          continue;
        }
        const jobs = this.outbox.get(host) ?? new Map<string, { task: number; durationMs: number }[]>();
        this.outbox.set(host, jobs);
        const tasks = jobs.get(o.jobId) ?? [];
        jobs.set(o.jobId, tasks);
        tasks.push({ task: o.task, durationMs });
        if (tasks.length >= MAX_CREDIT_TASKS) {
          jobs.delete(o.jobId);
          this.send(host, { frame: encodeCreditNotices(o.jobId, tasks), tasks: tasks.length });
        }
      }
    }
    if (this.outbox.size > 0) this.flushTimer ??= setTimeout(() => this.flush(), CREDIT_NOTICE_GAP_MS);
  }

  /** Sends every waiting notice. */
  flush(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const outbox = [...this.outbox];
    this.outbox.clear();
    for (const [host, jobs] of outbox) {
      for (const [jobId, tasks] of jobs) {
        if (tasks.length > 0) this.send(host, { frame: encodeCreditNotices(jobId, tasks), tasks: tasks.length });
      }
    }
  }

  onNotice(from: PeerId, notice: CreditNotice): void {
    const verdict = this.ledger.onNotice(from, notice);
    if (!verdict.ok) {
      this.deps.log('warn', `compute: ignored a credit notice from ${from.slice(0, 8)} for task ${notice.task} of ${notice.jobId}: ${verdict.code}`);
      return;
    }
    this.save();
    this.deps.changed();
  }

  peerUp(peer: PeerId): void {
    const queue = this.queued.get(peer);
    this.queued.delete(peer);
    for (const notice of queue ?? []) this.send(peer, notice);
  }

  setPartner(origin: string | null): string | null {
    this.ledger.setPartner(origin);
    this.save();
    this.deps.changed();
    return this.ledger.partner;
  }

  localValues(): Record<string, number> {
    return this.ledger.localValues();
  }

  view(): ComputeCredit {
    const averages = this.deps.averages();
    const size = this.deps.estimatedSize();
    const total = (name: string): number | null => {
      const mean = averages?.get(name);
      return mean === undefined || size === null ? null : Math.round(mean * size * 10) / 10;
    };
    return {
      creditSeconds: Math.round(this.ledger.creditSeconds * 1000) / 1000, tasksAccepted: this.ledger.accepted,
      noticesSent: this.noticesSent, partner: this.ledger.partner,
      partners: [...this.ledger.partners()].map(([origin, seconds]) => ({ origin, seconds, cloudSeconds: total(partnerValueName(origin)) })),
      cloudCreditSeconds: total(CREDIT_VALUE),
    };
  }

  private send(host: PeerId, notice: Notice): void {
    if (this.deps.sendFrame(host, notice.frame)) {
      this.noticesSent += notice.tasks;
      return;
    }
    const queue = this.queued.get(host) ?? [];
    if (queue.length < MAX_QUEUED_NOTICES) queue.push(notice);
    this.queued.set(host, queue);
    for (const oldest of this.queued.keys()) {
      if (this.queued.size <= MAX_QUEUED_PEERS) break;
      this.queued.delete(oldest);
    }
    this.deps.connect(host);
  }

  private save(): void {
    this.writer?.write(this.ledger.state());
  }
}
