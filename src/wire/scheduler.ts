/**
 * Wire format of the publish/subscribe scheduler (envelope `p: 'scheduler'`), version 2. Every message
 * carries `v`. Version 2 adds the batch forms `leases` and `results` (one frame for the copies that answer one
 * pull, one frame for the results of one batch run in one slot); a group of one still travels as `lease` or
 * `result`. Peers of version 1 cannot read them, so the envelope version changed with them.
 *
 *   announce  any → any          a job is pending (gossiped with a hop limit; `round` grows on re-publication;
 *                                 `slice`: only that slice's members may pull)
 *   pull      host → submitter   "lease me up to `slots` task copies", with the host's capabilities (and slice)
 *   lease     submitter → host   one task copy to run, valid for timeLimitMs + grace on the submitter's clock
 *   leases    submitter → host   several copies of one job at once (image, limits shared; ≤ MAX_BATCH_ENTRIES)
 *   no-work   submitter → host   fewer copies than asked are available now; `final`: never again for this host
 *   result    host → submitter   the outcome of a lease, with the digest the host's runtime computed over it
 *   results   host → submitter   outcomes of several leases of one job (≤ MAX_BATCH_ENTRIES, output ≤ MAX_BATCH_OUTPUT_CHARS)
 *   release   host → submitter   the host will not finish a lease (paused, busy, sandbox failure)
 *   revoke    submitter → host   stop a lease (the task was decided, or the lease expired)
 *   cancel    submitter → host   the job is withdrawn
 *
 * Decoded once at the boundary into a typed value or a named rejection; sizes are bounded.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';
import { jobImageSchema, jobSliceName, JobLimits, outputLimitsSchema, requirementsSchema, taskSpecSchema } from '../protocols/scheduler/job-model.ts';

export const SCHEDULER_WIRE_VERSION = 2;
export const MAX_ANNOUNCE_HOPS = 8;
export const MAX_PULL_SLOTS = 64;
/** Result output carried inline; larger outputs go to storage and travel as a hash. */
export const MAX_RESULT_OUTPUT_CHARS = 16 * 1024;
/** Entries of one `leases` or `results` message (as many as one pull may ask for). */
export const MAX_BATCH_ENTRIES = 64;
/** stdout + stderr characters of all entries of one `results` message: one full-size result fits, no more. */
export const MAX_BATCH_OUTPUT_CHARS = 2 * MAX_RESULT_OUTPUT_CHARS;

export const SchedulerWireErrors = {
  MALFORMED: 'E_SCHED_MALFORMED',
  UNKNOWN_TYPE: 'E_SCHED_UNKNOWN_TYPE',
  VERSION: 'E_SCHED_VERSION',
  BAD_PEER_ID: 'E_BAD_PEER_ID',
  BAD_JOB: 'E_BAD_JOB',
  BAD_SLICE: 'E_BAD_SLICE',
} as const;

const v = z.literal(SCHEDULER_WIRE_VERSION);
const peerId = z.string().regex(/^[0-9a-f]{40}$/);
const jobId = z.string().regex(/^[0-9a-f]{16}$/, 'a job id is 16 lowercase hex characters');
const leaseId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const taskIndex = z.number().int().min(0).max(JobLimits.MAX_TASKS - 1);
const errorCode = z.string().regex(/^E_[A-Z0-9_]{1,62}$/, 'an error code is E_ and upper-case letters');
/** A digest is opaque to the scheduler: printable, short (`sha256:<hex>` or similar). */
const digest = z.string().regex(/^[\x21-\x7e]{1,160}$/, 'a digest is 1..160 printable ASCII characters');
const nonNegative = z.number().int().min(0).max(1_048_576);

export const hostCapabilitiesSchema = z.strictObject({
  cores: z.number().int().min(1).max(1024),
  ramMB: nonNegative,
  gpuMemoryMB: nonNegative,
  diskMB: z.number().int().min(0).max(1 << 30),
  kinds: z.array(z.enum(['wasi', 'x86'])).max(2),
  ranks: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,31}$/), z.number().min(0).max(1)).optional(),
  /** The host's slice membership (the submitter still checks it against the members it knows). */
  slice: jobSliceName.nullable().optional(),
});

const announce = z.strictObject({
  v, t: z.literal('announce'), jobId, submitter: peerId,
  round: z.number().int().min(0).max(1_000_000),
  hops: z.number().int().min(0).max(MAX_ANNOUNCE_HOPS),
  image: jobImageSchema,
  requirements: requirementsSchema,
  timeLimitMs: z.number().int().min(JobLimits.MIN_TIME_LIMIT_MS).max(JobLimits.MAX_TIME_LIMIT_MS),
  taskCount: z.number().int().min(1).max(JobLimits.MAX_TASKS),
  /** Hosts that run each task (the redundancy's n); absent means 1. */
  copies: z.number().int().min(1).max(JobLimits.MAX_REDUNDANCY).optional(),
  /** The job runs only on members of this slice. */
  slice: jobSliceName.optional(),
});
const pull = z.strictObject({ v, t: z.literal('pull'), jobId, slots: z.number().int().min(1).max(MAX_PULL_SLOTS), caps: hostCapabilitiesSchema });
const timeLimitMs = z.number().int().min(JobLimits.MIN_TIME_LIMIT_MS).max(JobLimits.MAX_TIME_LIMIT_MS);
const lease = z.strictObject({
  v, t: z.literal('lease'), jobId, lease: leaseId, task: taskIndex, spec: taskSpecSchema, image: jobImageSchema,
  timeLimitMs, outputLimits: outputLimitsSchema,
});
const distinctLeases = (entries: readonly { lease: number }[]): boolean => new Set(entries.map((e) => e.lease)).size === entries.length;
const leases = z.strictObject({
  v, t: z.literal('leases'), jobId, image: jobImageSchema, timeLimitMs, outputLimits: outputLimitsSchema,
  leases: z.array(z.strictObject({ lease: leaseId, task: taskIndex, spec: taskSpecSchema }))
    .min(1).max(MAX_BATCH_ENTRIES).refine(distinctLeases, 'lease ids repeat'),
});
const noWork = z.strictObject({ v, t: z.literal('no-work'), jobId, final: z.boolean() });
const outcome = {
  lease: leaseId, digest, ok: z.boolean(),
  exitCode: z.number().int().min(0).max(0xffffffff).nullable(),
  code: errorCode.nullable(),
  stdout: z.string().max(MAX_RESULT_OUTPUT_CHARS),
  stderr: z.string().max(MAX_RESULT_OUTPUT_CHARS),
  durationMs: z.number().min(0).max(1e9),
};
const result = z.strictObject({ v, t: z.literal('result'), jobId, ...outcome });
const results = z.strictObject({
  v, t: z.literal('results'), jobId,
  results: z.array(z.strictObject(outcome)).min(1).max(MAX_BATCH_ENTRIES)
    .refine(distinctLeases, 'lease ids repeat')
    .refine((rs) => rs.reduce((n, r) => n + r.stdout.length + r.stderr.length, 0) <= MAX_BATCH_OUTPUT_CHARS, `output over ${MAX_BATCH_OUTPUT_CHARS} characters`),
});
const release = z.strictObject({ v, t: z.literal('release'), jobId, lease: leaseId, code: errorCode });
const revoke = z.strictObject({ v, t: z.literal('revoke'), jobId, lease: leaseId });
const cancel = z.strictObject({ v, t: z.literal('cancel'), jobId });

const schemas = { announce, pull, lease, leases, 'no-work': noWork, result, results, release, revoke, cancel } as const;

export type AnnounceMessage = z.infer<typeof announce>;
export type PullMessage = z.infer<typeof pull>;
export type LeaseMessage = z.infer<typeof lease>;
export type LeasesMessage = z.infer<typeof leases>;
export type NoWorkMessage = z.infer<typeof noWork>;
export type ResultMessage = z.infer<typeof result>;
export type ResultsMessage = z.infer<typeof results>;
export type ReleaseMessage = z.infer<typeof release>;
export type RevokeMessage = z.infer<typeof revoke>;
export type CancelMessage = z.infer<typeof cancel>;
export type SchedulerMessage =
  | AnnounceMessage | PullMessage | LeaseMessage | LeasesMessage | NoWorkMessage | ResultMessage | ResultsMessage
  | ReleaseMessage | RevokeMessage | CancelMessage;

export function decodeSchedulerMessage(m: unknown): Decoded<SchedulerMessage> {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return reject(SchedulerWireErrors.MALFORMED, 'message is not an object');
  const { t, v: version } = m as { t?: unknown; v?: unknown };
  if (version !== SCHEDULER_WIRE_VERSION) {
    return reject(SchedulerWireErrors.VERSION, `version ${JSON.stringify(version) ?? 'missing'}, expected ${SCHEDULER_WIRE_VERSION}`);
  }
  if (typeof t !== 'string' || !Object.hasOwn(schemas, t)) {
    return reject(SchedulerWireErrors.UNKNOWN_TYPE, `unknown scheduler message ${JSON.stringify(String(t)).slice(0, 40)}`);
  }
  const parsed = schemas[t as keyof typeof schemas].safeParse(m);
  if (parsed.success) return accept(parsed.data as SchedulerMessage);
  const issue = parsed.error.issues[0];
  const path = (issue?.path ?? []).map(String);
  const where = `${t}: ${path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}`;
  if (path[0] === 'submitter') return reject(SchedulerWireErrors.BAD_PEER_ID, where);
  if (path[0] === 'slice' || (path[0] === 'caps' && path[1] === 'slice')) return reject(SchedulerWireErrors.BAD_SLICE, where);
  const jobPart = (name: string | undefined): boolean => ['image', 'requirements', 'spec', 'outputLimits'].includes(name ?? '');
  if (jobPart(path[0]) || (path[0] === 'leases' && jobPart(path[2]))) return reject(SchedulerWireErrors.BAD_JOB, where);
  return reject(SchedulerWireErrors.MALFORMED, where);
}
