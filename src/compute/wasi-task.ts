/**
 * A WASI task: what a submitter asks a host to run (a WASI preview1 command module plus its arguments,
 * environment, stdin and limits) and what comes back. Shared by the wire format, the sandboxes and the UI.
 * The limits here are the hard bounds every host enforces, whatever a submitter asks for.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';
import { checkInputFiles, wasiInputFilesSchema, type WasiInputFile } from './wasi-input-files.ts';

export interface WasiTaskSpec {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
  /** Wall-clock limit, ms; the sandbox worker is killed when it passes. */
  readonly timeLimitMs: number;
  /** Linear-memory limit of the guest, MiB. */
  readonly memoryLimitMiB: number;
  /** Set by a host that may cancel the run: `cancelSandboxRun(runId)` kills its worker (sandbox-cancel.ts). */
  readonly runId?: string;
  /**
   * Tasks with the same key (one job of one submitter) may run one after another in the same sandbox worker,
   * each with a fresh guest instance; without it every task gets a fresh worker.
   */
  readonly reuseKey?: string;
  /** Read-only files in the guest's preopened `/` (wasi-input-files.ts). */
  readonly files?: readonly WasiInputFile[];
  /**
   * More tasks of the same job (same module) to run after this one in the same sandbox call, one after another,
   * each under its own limits; their results come back in the result's `batch`, in order. It saves a round
   * trip from the node to the page per tiny task. At most WasiLimits.MAX_BATCH_TASKS; never nested; a sandbox
   * that does not know batches runs only this task and answers without `batch`.
   */
  readonly batch?: readonly WasiTaskSpec[];
}

export type WasiTaskResult =
  | { ok: true; exitCode: number; stdout: string; stderr: string; durationMs: number; truncated?: boolean; batch?: WasiTaskResult[] }
  | { ok: false; code: string; message: string; stdout: string; stderr: string; durationMs: number; batch?: WasiTaskResult[] };

export const WasiLimits = {
  MAX_ARGS: 256,
  MAX_ARG_CHARS: 4096,
  MAX_ENV_VARS: 256,
  MAX_ENV_NAME_CHARS: 256,
  MAX_ENV_VALUE_CHARS: 4096,
  /** All args, env names and values together. */
  MAX_ARGS_ENV_TOTAL_CHARS: 32 * 1024,
  MAX_STDIN_CHARS: 16 * 1024,
  MIN_TIME_LIMIT_MS: 100,
  MAX_TIME_LIMIT_MS: 600_000,
  MIN_MEMORY_LIMIT_MIB: 1,
  MAX_MEMORY_LIMIT_MIB: 4096,
  MAX_MODULE_BYTES: 64 * 1024 * 1024,
  /** Each of stdout and stderr is cut here and the result flagged `truncated`. */
  MAX_OUTPUT_BYTES: 1024 * 1024,
  /** Tasks a spec's `batch` may carry. */
  MAX_BATCH_TASKS: 64,
} as const;

/** Named codes a task can fail with. */
export const WasiErrors = {
  TIME_LIMIT: 'E_TIME_LIMIT',
  MEMORY_LIMIT: 'E_MEMORY_LIMIT',
  OUTPUT_LIMIT: 'E_OUTPUT_LIMIT',
  NOT_WASM: 'E_NOT_WASM',
  NOT_COMMAND: 'E_NOT_COMMAND',
  BAD_IMPORT: 'E_BAD_IMPORT',
  TRAP: 'E_TRAP',
  SANDBOX_FAILED: 'E_SANDBOX_FAILED',
  BAD_SPEC: 'E_BAD_SPEC',
  MODULE_TOO_LARGE: 'E_MODULE_TOO_LARGE',
  CANCELLED: 'E_CANCELLED',
} as const;

/** Env names: no `=` and no NUL (WASI passes env as `NAME=value\0`). */
const envName = z.string().min(1).max(WasiLimits.MAX_ENV_NAME_CHARS).regex(/^[^=\0]+$/, 'env name without = or NUL');
const noNul = (max: number) => z.string().max(max).regex(/^[^\0]*$/, 'no NUL characters');

export const wasiTaskSpecSchema = z.object({
  args: z.array(noNul(WasiLimits.MAX_ARG_CHARS)).max(WasiLimits.MAX_ARGS),
  env: z.record(envName, noNul(WasiLimits.MAX_ENV_VALUE_CHARS)),
  stdin: z.string().max(WasiLimits.MAX_STDIN_CHARS),
  timeLimitMs: z.number().int().min(WasiLimits.MIN_TIME_LIMIT_MS).max(WasiLimits.MAX_TIME_LIMIT_MS),
  memoryLimitMiB: z.number().int().min(WasiLimits.MIN_MEMORY_LIMIT_MIB).max(WasiLimits.MAX_MEMORY_LIMIT_MIB),
  runId: z.string().min(1).max(256).optional(),
  reuseKey: z.string().min(1).max(256).optional(),
  files: wasiInputFilesSchema.optional(),
});

const MAX_OUTPUT_CHARS = WasiLimits.MAX_OUTPUT_BYTES;

export const wasiTaskResultSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    exitCode: z.number().int().min(0).max(0xffffffff),
    stdout: z.string().max(MAX_OUTPUT_CHARS),
    stderr: z.string().max(MAX_OUTPUT_CHARS),
    durationMs: z.number().min(0).max(1e9),
    truncated: z.boolean().optional(),
  }),
  z.object({
    ok: z.literal(false),
    code: z.string().regex(/^E_[A-Z0-9_]{1,62}$/),
    message: z.string().max(4096),
    stdout: z.string().max(MAX_OUTPUT_CHARS),
    stderr: z.string().max(MAX_OUTPUT_CHARS),
    durationMs: z.number().min(0).max(1e9),
  }),
]);

/** Checks a spec against the hard limits (schema plus the total size of args and env). */
export function validateWasiTaskSpec(spec: unknown): Decoded<WasiTaskSpec> {
  const parsed = wasiTaskSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(WasiErrors.BAD_SPEC, `${issue?.path.join('.') || 'spec'}: ${issue?.message ?? 'invalid'}`);
  }
  const s = parsed.data;
  const envEntries = Object.entries(s.env);
  if (envEntries.length > WasiLimits.MAX_ENV_VARS) return reject(WasiErrors.BAD_SPEC, `more than ${WasiLimits.MAX_ENV_VARS} env vars`);
  const total = s.args.reduce((n, a) => n + a.length, 0) + envEntries.reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (total > WasiLimits.MAX_ARGS_ENV_TOTAL_CHARS) {
    return reject(WasiErrors.BAD_SPEC, `args and env total ${total} characters, over ${WasiLimits.MAX_ARGS_ENV_TOTAL_CHARS}`);
  }
  const files = checkInputFiles(s.files ?? []);
  if (!files.ok) return files;
  return accept(s);
}

/** Convenience for sandboxes: a failed result with no output. */
export function failedResult(code: string, message: string, durationMs = 0, stdout = '', stderr = ''): WasiTaskResult {
  return { ok: false, code, message, stdout, stderr, durationMs };
}

/**
 * Runs a spec's task, then the tasks of its `batch` one after another with `runOne` (each under its own limits);
 * the batch's results come back in `batch`, in order. A batch over MAX_BATCH_TASKS is refused whole.
 */
export async function runTaskAndBatch(
  spec: WasiTaskSpec, runOne: (one: WasiTaskSpec) => Promise<WasiTaskResult>,
): Promise<WasiTaskResult> {
  const { batch, ...first } = spec;
  if (batch === undefined) return runOne(first);
  if (batch.length > WasiLimits.MAX_BATCH_TASKS) {
    return failedResult(WasiErrors.BAD_SPEC, `a batch of ${batch.length} tasks, over ${WasiLimits.MAX_BATCH_TASKS}`);
  }
  const result = await runOne(first);
  const rest: WasiTaskResult[] = [];
  for (const next of batch) {
    const { batch: _nested, ...one } = next;
    rest.push(await runOne(one));
  }
  return { ...result, batch: rest };
}
