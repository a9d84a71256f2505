/**
 * Wire format of credit notices (envelope `p: 'credit'`, version 2), the compute service's own frame protocol
 * beside the scheduler's messages: when a submitter's quorum accepts tasks, it tells each host whose result
 * agreed how long each task ran. The link is authenticated (each peer proved its key when the link opened), so
 * the sender is the submitter; the host checks it ran each task for that sender (compute-credit.ts).
 *
 *   credit  submitter → agreeing host   {jobId, tasks: [{task, durationMs}, …]}   no body
 *
 * Version 2 carries the tasks of one job that the submitter accepted within a short gap (compute-credit-desk.ts)
 * in one notice, at most MAX_CREDIT_TASKS, each task once; version 1 carried one task per frame.
 * Decoded once at the boundary into the single-task notices the ledger takes, or a named rejection.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../../core/errors.ts';
import { JobLimits } from '../../protocols/scheduler/job-model.ts';
import { encodeFrame } from '../../wire/frame.ts';

export const CREDIT_PROTOCOL = 'credit';
export const CREDIT_WIRE_VERSION = 2;
/** Tasks one notice credits at most. */
export const MAX_CREDIT_TASKS = 64;

export const CreditWireErrors = {
  MALFORMED: 'E_CREDIT_MALFORMED',
  VERSION: 'E_CREDIT_VERSION',
  BODY: 'E_CREDIT_BAD_BODY',
} as const;

const durationMs = z.number().int().min(0).max(JobLimits.MAX_TIME_LIMIT_MS);
const creditMessage = z.strictObject({
  v: z.literal(CREDIT_WIRE_VERSION),
  t: z.literal('credit'),
  jobId: z.string().regex(/^[0-9a-f]{16}$/, 'a job id is 16 lowercase hex characters'),
  tasks: z.array(z.strictObject({ task: z.number().int().min(0).max(JobLimits.MAX_TASKS - 1), durationMs }))
    .min(1).max(MAX_CREDIT_TASKS)
    .refine((ts) => new Set(ts.map((t) => t.task)).size === ts.length, 'a task is credited twice'),
});
export type CreditMessage = z.infer<typeof creditMessage>;

/** What the ledger credits: one accepted task of one job, as one entry of a notice of version `v`. */
export interface CreditNotice {
  readonly v: number;
  readonly t: 'credit';
  readonly jobId: string;
  readonly task: number;
  readonly durationMs: number;
}

export function decodeCreditNotices(v: number, m: unknown, body: Uint8Array): Decoded<CreditNotice[]> {
  if (v !== CREDIT_WIRE_VERSION) return reject(CreditWireErrors.VERSION, `credit v${v}, expected v${CREDIT_WIRE_VERSION}`);
  if (body.byteLength !== 0) return reject(CreditWireErrors.BODY, `a credit notice carries no body, got ${body.byteLength} bytes`);
  const parsed = creditMessage.safeParse(m);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(CreditWireErrors.MALFORMED, `${issue?.path.map(String).join('.') || 'message'}: ${issue?.message ?? 'invalid'}`);
  }
  const { jobId, tasks } = parsed.data;
  return accept(tasks.map(({ task, durationMs: ms }) => ({ v, t: 'credit', jobId, task, durationMs: ms })));
}

/** A task's duration as the wire carries it: whole milliseconds within the job model's time limit. */
export function creditDuration(ms: number): number {
  return Math.max(0, Math.min(JobLimits.MAX_TIME_LIMIT_MS, Math.round(ms)));
}

/** One notice for up to MAX_CREDIT_TASKS tasks of one job (the caller splits longer lists). */
export function encodeCreditNotices(jobId: string, tasks: readonly { readonly task: number; readonly durationMs: number }[]): Uint8Array {
  const m: CreditMessage = {
    v: CREDIT_WIRE_VERSION, t: 'credit', jobId,
    tasks: tasks.map(({ task, durationMs: ms }) => ({ task, durationMs: creditDuration(ms) })),
  };
  return encodeFrame({ p: CREDIT_PROTOCOL, v: CREDIT_WIRE_VERSION, m });
}
