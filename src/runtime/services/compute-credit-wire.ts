/**
 * Wire format of credit notices (envelope `p: 'credit'`, version 1), the compute service's own frame protocol
 * beside the scheduler's messages: when a submitter's quorum accepts a task, it tells each host whose result
 * agreed how long the task ran. The link is authenticated (each peer proved its key when the link opened), so
 * the sender is the submitter; the host checks it ran that task for that sender (compute-credit.ts).
 *
 *   credit  submitter → agreeing host   {jobId, task, durationMs}   no body
 *
 * Decoded once at the boundary into a typed value or a named rejection.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../../core/errors.ts';
import { JobLimits } from '../../protocols/scheduler/job-model.ts';
import { encodeFrame } from '../../wire/frame.ts';

export const CREDIT_PROTOCOL = 'credit';
export const CREDIT_WIRE_VERSION = 1;

export const CreditWireErrors = {
  MALFORMED: 'E_CREDIT_MALFORMED',
  VERSION: 'E_CREDIT_VERSION',
  BODY: 'E_CREDIT_BAD_BODY',
} as const;

const creditNotice = z.strictObject({
  v: z.literal(CREDIT_WIRE_VERSION),
  t: z.literal('credit'),
  jobId: z.string().regex(/^[0-9a-f]{16}$/, 'a job id is 16 lowercase hex characters'),
  task: z.number().int().min(0).max(JobLimits.MAX_TASKS - 1),
  durationMs: z.number().int().min(0).max(JobLimits.MAX_TIME_LIMIT_MS),
});
export type CreditNotice = z.infer<typeof creditNotice>;

export function decodeCreditNotice(v: number, m: unknown, body: Uint8Array): Decoded<CreditNotice> {
  if (v !== CREDIT_WIRE_VERSION) return reject(CreditWireErrors.VERSION, `credit v${v}, expected v${CREDIT_WIRE_VERSION}`);
  if (body.byteLength !== 0) return reject(CreditWireErrors.BODY, `a credit notice carries no body, got ${body.byteLength} bytes`);
  const parsed = creditNotice.safeParse(m);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(CreditWireErrors.MALFORMED, `${issue?.path.map(String).join('.') || 'message'}: ${issue?.message ?? 'invalid'}`);
  }
  return accept(parsed.data);
}

export function encodeCreditNotice(jobId: string, task: number, durationMs: number): Uint8Array {
  const m: CreditNotice = {
    v: CREDIT_WIRE_VERSION, t: 'credit', jobId, task,
    durationMs: Math.max(0, Math.min(JobLimits.MAX_TIME_LIMIT_MS, Math.round(durationMs))),
  };
  return encodeFrame({ p: CREDIT_PROTOCOL, v: CREDIT_WIRE_VERSION, m });
}
