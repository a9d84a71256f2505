/**
 * Credit for accepted work (issue #6), after BOINC's credit for validated results: a host earns the CPU-seconds
 * of a task only when the task's submitter tells it that the quorum accepted its result (a `credit` notice,
 * compute-credit-wire.ts, over the authenticated link, so its sender is known). A host that disagreed with the
 * quorum (a suspect) is never told, so it earns nothing.
 *
 * The ledger on the host side only credits what it can check: a notice must come from the peer this host ran
 * that very task for, at most once per task, and is bounded by the task's time limit. Credit earned while this
 * node lends on behalf of a partner site (the widget's embedding origin) is also counted for that partner, and
 * contributed to cloud-wide averaging as summed values (`sum.credit`, `sum.credit.<key>`, averaging.ts: a node
 * without the key counts as 0), so that mean × estimated size is the cloud's total.
 */
import { z } from 'zod';
import type { PeerId } from '../../core/ids.ts';
import { summedKey } from '../../protocols/aggregation/averaging.ts';
import type { CreditNotice } from './compute-credit-wire.ts';

export const CreditErrors = {
  UNKNOWN_TASK: 'E_CREDIT_UNKNOWN_TASK',
  WRONG_SUBMITTER: 'E_CREDIT_WRONG_SUBMITTER',
  DUPLICATE: 'E_CREDIT_DUPLICATE',
} as const;

/** Tasks reported and not yet credited, remembered per host; the oldest are forgotten beyond this. */
export const MAX_AWAITING_CREDIT = 4096;
/** Partners a ledger keeps apart (a node lends for one partner at a time); bounded so averaging messages stay small. */
export const MAX_PARTNERS = 8;
/** Name of this node's total credit, in seconds, in cloud-wide averaging (a summed value). */
export const CREDIT_VALUE = summedKey('credit');

const partnerSeconds = z.record(z.string().max(256), z.number().min(0).max(1e12));

/** What a ledger persists (validated on load: storage is not trusted to hold what we wrote). */
export const creditStateSchema = z.strictObject({
  v: z.literal(1),
  creditMs: z.number().min(0).max(1e15),
  tasksAccepted: z.number().int().min(0).max(1e12),
  byPartnerMs: partnerSeconds,
  partner: z.string().max(256).nullable(),
});
export type CreditState = z.infer<typeof creditStateSchema>;

export type CreditVerdict = { readonly ok: true; readonly creditedMs: number } | { readonly ok: false; readonly code: string };

/** A short, stable averaging key for a partner origin (value names allow [a-z0-9_.-], 32 characters). */
export function partnerValueName(origin: string): string {
  // Two FNV-1a passes with different offsets: 64 bits, enough to keep a cloud's partners apart.
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < origin.length; i++) {
    const c = origin.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 + 2) >>> 0;
  }
  return `${CREDIT_VALUE}.${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`;
}

export class CreditLedger {
  private creditMs = 0;
  private tasksAccepted = 0;
  private byPartnerMs = new Map<string, number>();
  private partnerOrigin: string | null = null;
  /** `${jobId}:${task}` → who it ran for and its time limit. */
  private readonly awaiting = new Map<string, { readonly submitter: PeerId; readonly timeLimitMs: number }>();

  /** The host reported a result for this task: a later notice from `submitter` may credit it. */
  reported(submitter: PeerId, jobId: string, task: number, timeLimitMs: number): void {
    const key = `${jobId}:${task}`;
    this.awaiting.delete(key);
    this.awaiting.set(key, { submitter, timeLimitMs });
    for (const oldest of this.awaiting.keys()) {
      if (this.awaiting.size <= MAX_AWAITING_CREDIT) break;
      this.awaiting.delete(oldest);
    }
  }

  /** A notice from `from`: credits the task once if `from` is the submitter it ran for. */
  onNotice(from: PeerId, notice: CreditNotice): CreditVerdict {
    const key = `${notice.jobId}:${notice.task}`;
    const entry = this.awaiting.get(key);
    if (!entry) return { ok: false, code: CreditErrors.UNKNOWN_TASK };
    if (entry.submitter !== from) return { ok: false, code: CreditErrors.WRONG_SUBMITTER };
    this.awaiting.delete(key);
    const creditedMs = Math.max(0, Math.min(notice.durationMs, entry.timeLimitMs));
    this.creditMs += creditedMs;
    this.tasksAccepted++;
    if (this.partnerOrigin !== null) {
      this.byPartnerMs.set(this.partnerOrigin, (this.byPartnerMs.get(this.partnerOrigin) ?? 0) + creditedMs);
    }
    return { ok: true, creditedMs };
  }

  /** The partner site this node lends for from now on (null: none). */
  setPartner(origin: string | null): void {
    this.partnerOrigin = origin;
    if (origin !== null && !this.byPartnerMs.has(origin)) {
      this.byPartnerMs.set(origin, 0);
      for (const old of this.byPartnerMs.keys()) {
        if (this.byPartnerMs.size <= MAX_PARTNERS) break;
        if (old !== origin) this.byPartnerMs.delete(old);
      }
    }
  }

  get partner(): string | null {
    return this.partnerOrigin;
  }

  get creditSeconds(): number {
    return this.creditMs / 1000;
  }

  get accepted(): number {
    return this.tasksAccepted;
  }

  /** Credit per partner origin, seconds. */
  partners(): Map<string, number> {
    return new Map([...this.byPartnerMs].map(([origin, ms]) => [origin, ms / 1000]));
  }

  /**
   * Values for cloud-wide averaging: total credit and credit per partner, seconds. A partner with no credit here
   * is left out (missing counts as 0 for summed values) so idle partners do not take the few summed slots.
   */
  localValues(): Record<string, number> {
    const values: Record<string, number> = { [CREDIT_VALUE]: this.creditMs / 1000 };
    for (const [origin, ms] of this.byPartnerMs) if (ms > 0) values[partnerValueName(origin)] = ms / 1000;
    return values;
  }

  state(): CreditState {
    return {
      v: 1, creditMs: this.creditMs, tasksAccepted: this.tasksAccepted,
      byPartnerMs: Object.fromEntries(this.byPartnerMs), partner: this.partnerOrigin,
    };
  }

  /** Restores a persisted state (added to anything credited since start); false if it is not a valid state. */
  restore(raw: unknown): boolean {
    const parsed = creditStateSchema.safeParse(raw);
    if (!parsed.success) return false;
    const s = parsed.data;
    this.creditMs += s.creditMs;
    this.tasksAccepted += s.tasksAccepted;
    for (const [origin, ms] of Object.entries(s.byPartnerMs).slice(0, MAX_PARTNERS)) {
      this.byPartnerMs.set(origin, (this.byPartnerMs.get(origin) ?? 0) + ms);
    }
    if (this.partnerOrigin === null && s.partner !== null) this.setPartner(s.partner);
    return true;
  }
}
