/**
 * Job messages between a submitter and a host (envelope `p: 'job'`), version 1.
 *
 *   run    submitter → host   the task spec; the WASM module travels as the frame body
 *   result host → submitter   the task's WasiTaskResult
 *   reject host → submitter   the host will not run it (busy, no sandbox, duplicate, bad module) — retry elsewhere
 *   cancel submitter → host   the submitter no longer wants the result
 *
 * Every message is validated here with bounded sizes; decoding never throws.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';
import { MAX_HEADER_BYTES } from './frame.ts';
import { wasiTaskResultSchema, wasiTaskSpecSchema, validateWasiTaskSpec, type WasiTaskResult } from '../compute/wasi-task.ts';

export const JOB_WIRE_VERSION = 1;

export const JobWireErrors = {
  MALFORMED: 'E_JOB_MALFORMED',
  UNKNOWN_TYPE: 'E_JOB_UNKNOWN_TYPE',
  BAD_SPEC: 'E_BAD_SPEC',
} as const;

export const MAX_JOB_NAME_CHARS = 256;
export const MAX_REJECT_MESSAGE_CHARS = 1024;

export interface JobRunMessage {
  readonly type: 'run';
  /** 16 lowercase hex characters, chosen by the submitter. */
  readonly jobId: string;
  readonly name: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly stdin: string;
  readonly timeLimitMs: number;
  readonly memoryLimitMiB: number;
}

export interface JobResultMessage {
  readonly type: 'result';
  readonly jobId: string;
  readonly result: WasiTaskResult;
}

export interface JobRejectMessage {
  readonly type: 'reject';
  readonly jobId: string;
  readonly code: string;
  readonly message: string;
}

export interface JobCancelMessage {
  readonly type: 'cancel';
  readonly jobId: string;
}

export type JobMessage = JobRunMessage | JobResultMessage | JobRejectMessage | JobCancelMessage;

const jobId = z.string().regex(/^[0-9a-f]{16}$/, 'a job id is 16 lowercase hex characters');
const errorCode = z.string().regex(/^E_[A-Z0-9_]{1,62}$/, 'an error code is E_ and upper-case letters');

const runSchema = wasiTaskSpecSchema.extend({
  type: z.literal('run'),
  jobId,
  name: z.string().min(1).max(MAX_JOB_NAME_CHARS),
});
const resultSchema = z.object({ type: z.literal('result'), jobId, result: wasiTaskResultSchema });
const rejectSchema = z.object({
  type: z.literal('reject'), jobId, code: errorCode, message: z.string().max(MAX_REJECT_MESSAGE_CHARS),
});
const cancelSchema = z.object({ type: z.literal('cancel'), jobId });

const schemas = { run: runSchema, result: resultSchema, reject: rejectSchema, cancel: cancelSchema } as const;

export function decodeJobMessage(m: unknown): Decoded<JobMessage> {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return reject(JobWireErrors.MALFORMED, 'job message is not an object');
  const type = (m as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) {
    return reject(JobWireErrors.UNKNOWN_TYPE, `unknown job message type ${JSON.stringify(String(type)).slice(0, 40)}`);
  }
  const parsed = schemas[type as keyof typeof schemas].safeParse(m);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path[0];
    const specField = type === 'run' && field !== 'jobId' && field !== 'name' && field !== 'type';
    const code = specField ? JobWireErrors.BAD_SPEC : JobWireErrors.MALFORMED;
    return reject(code, `${type}: ${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}`);
  }
  if (parsed.data.type === 'run') {
    // Totals across args and env that a per-field schema cannot express.
    const spec = validateWasiTaskSpec(parsed.data);
    if (!spec.ok) return spec;
  }
  return accept(parsed.data as JobMessage);
}

/** Room left in a frame header for a result message (envelope and other fields take the rest). */
const RESULT_HEADER_BUDGET = MAX_HEADER_BYTES - 2048;
const TRUNCATION_NOTE = '\n[nephele: output truncated to fit the result message]\n';
const encoder = new TextEncoder();

/**
 * Cuts stdout/stderr so a result message fits in one frame header (MAX_HEADER_BYTES), flagging `truncated`
 * on success and appending a note to stderr. A host calls this before sending a result.
 */
export function fitResultForWire(result: WasiTaskResult): WasiTaskResult {
  const size = (r: WasiTaskResult) => encoder.encode(JSON.stringify(r)).byteLength;
  if (size(result) <= RESULT_HEADER_BUDGET) return result;
  let keep = Math.max(result.stdout.length, result.stderr.length);
  let fitted = result;
  while (keep > 0) {
    keep = Math.floor(keep / 2);
    const stdout = result.stdout.slice(0, keep);
    const stderr = result.stderr.slice(0, keep) + TRUNCATION_NOTE;
    fitted = result.ok ? { ...result, stdout, stderr, truncated: true } : { ...result, stdout, stderr };
    if (size(fitted) <= RESULT_HEADER_BUDGET) return fitted;
  }
  return result.ok ? { ...result, stdout: '', stderr: TRUNCATION_NOTE, truncated: true } : { ...result, stdout: '', stderr: TRUNCATION_NOTE };
}
