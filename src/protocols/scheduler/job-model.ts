/**
 * The job model: what a user submits to the cloud (MISSION.md §2; UCComp's service description, whose
 * requirements are cores, RAM, graphics memory and disk). A job is one guest image — a WASI command module or
 * an x86 domain for v86 — run once per task with that task's arguments, environment, stdin and input files,
 * under the job's requirements, per-task time limit, output limits and redundancy (k-of-n agreement, BOINC).
 *
 * `parseJobSpec` is the one entry point: it validates with zod plus the cross-field rules a schema cannot say,
 * and answers E_BAD_JOB with the path of the first problem (`tasks.3.args.0`), never a throw.
 */
import { z } from 'zod';
import type { Rejection } from '../../core/errors.ts';

export const JobLimits = {
  MAX_TASKS: 10_000,
  MAX_REDUNDANCY: 7,
  MAX_ARGS: 256,
  MAX_ARG_CHARS: 4096,
  MAX_ENV_VARS: 256,
  MAX_ENV_VALUE_CHARS: 4096,
  MAX_STDIN_CHARS: 16 * 1024,
  MAX_INPUT_FILES: 64,
  MAX_INLINE_FILE_CHARS: 32 * 1024,
  /** One task, as JSON, must fit in a lease message (a frame header is 64 KiB). */
  MAX_TASK_JSON_BYTES: 48 * 1024,
  MIN_TIME_LIMIT_MS: 100,
  MAX_TIME_LIMIT_MS: 600_000,
  MAX_OUTPUT_BYTES: 1024 * 1024,
  MAX_WASM_BYTES: 64 * 1024 * 1024,
  MAX_GUEST_MEMORY_MB: 4096,
} as const;

export const JobModelErrors = { BAD_JOB: 'E_BAD_JOB' } as const;

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a content hash is 64 lowercase hex characters');
const noNul = (max: number) => z.string().max(max).regex(/^[^\0]*$/, 'no NUL characters');
const envName = z.string().min(1).max(256).regex(/^[^=\0]+$/, 'env name without = or NUL');
/** A relative path inside the guest's working directory: no leading slash, no `..` segment. */
const guestPath = z
  .string()
  .min(1)
  .max(256)
  .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\0\\]+$/, 'a relative path without .. or backslashes');

/** At most this many images of a job carry a storage link (the module or domain images, then input files). */
export const MAX_IMAGE_LINKS = 16;
/**
 * Storage links of a job's images by sha256, set by the submitter after it stored them in the DHT: a host
 * missing an image fetches it from storage (and still checks its sha256) before asking the submitter
 * (runtime/services/compute-images.ts). The link's key fragment opens only the image itself.
 */
export const imageLinksSchema = z
  .record(sha256Hex, z.string().max(160).regex(/^nephele:\/\/[0-9a-f]{64}#k=[A-Za-z0-9_-]{1,64}$/, 'a storage link nephele://<64 hex>#k=<key>'))
  .refine((links) => Object.keys(links).length <= MAX_IMAGE_LINKS, `at most ${MAX_IMAGE_LINKS} image links`);

export const wasiImageSchema = z.strictObject({
  kind: z.literal('wasi'),
  sha256: sha256Hex,
  size: z.number().int().min(8).max(JobLimits.MAX_WASM_BYTES),
  links: imageLinksSchema.optional(),
});

export const x86DomainSchema = z.strictObject({
  memoryMB: z.number().int().min(16).max(JobLimits.MAX_GUEST_MEMORY_MB),
  boot: z.enum(['multiboot', 'linux', 'snapshot']),
  kernel: sha256Hex.optional(),
  initrd: sha256Hex.optional(),
  disk: sha256Hex.optional(),
  snapshot: sha256Hex.optional(),
});

export const x86ImageSchema = z.strictObject({ kind: z.literal('x86'), domain: x86DomainSchema, links: imageLinksSchema.optional() });
export const jobImageSchema = z.discriminatedUnion('kind', [wasiImageSchema, x86ImageSchema]);

export const inputFileSchema = z.union([
  z.strictObject({ path: guestPath, sha256: sha256Hex }),
  z.strictObject({ path: guestPath, inline: z.string().max(JobLimits.MAX_INLINE_FILE_CHARS) }),
]);

export const taskSpecSchema = z.strictObject({
  args: z.array(noNul(JobLimits.MAX_ARG_CHARS)).max(JobLimits.MAX_ARGS),
  env: z.record(envName, noNul(JobLimits.MAX_ENV_VALUE_CHARS)),
  stdin: z.string().max(JobLimits.MAX_STDIN_CHARS),
  inputFiles: z.array(inputFileSchema).max(JobLimits.MAX_INPUT_FILES).optional(),
});

/**
 * A slice name, as the cloud service names slices (cloud-messages.ts `sliceName`; repeated here because protocol
 * code does not import the runtime). A job naming a slice runs only on that slice's members (P2PCS: run
 * applications on an allocated slice).
 */
export const jobSliceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/, 'a slice name is 1-48 letters, digits, _ . -');

/** Attributes a host can be ranked by (ordered slicing); names like `speed`, `ramMB`, `uptime`. */
export const rankAttribute = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,31}$/, 'an attribute name');

export const requirementsSchema = z.strictObject({
  cores: z.number().int().min(1).max(256).optional(),
  ramMB: z.number().int().min(1).max(1_048_576).optional(),
  gpuMemoryMB: z.number().int().min(1).max(1_048_576).optional(),
  diskMB: z.number().int().min(1).max(16_777_216).optional(),
  /** At most this many distinct hosts hold leases of the job at once. */
  peers: z.number().int().min(1).max(JobLimits.MAX_TASKS).optional(),
  /** Only hosts in the top `topPercent` % by `attribute`, e.g. the fastest 10 %. */
  rank: z.strictObject({ attribute: rankAttribute, topPercent: z.number().gt(0).max(100) }).optional(),
});

export const outputLimitsSchema = z.strictObject({
  stdoutBytes: z.number().int().min(0).max(JobLimits.MAX_OUTPUT_BYTES),
  stderrBytes: z.number().int().min(0).max(JobLimits.MAX_OUTPUT_BYTES),
});

export const redundancySchema = z.strictObject({
  n: z.number().int().min(1).max(JobLimits.MAX_REDUNDANCY),
  k: z.number().int().min(1).max(JobLimits.MAX_REDUNDANCY),
});

export const DEFAULT_OUTPUT_LIMITS = { stdoutBytes: 64 * 1024, stderrBytes: 16 * 1024 } as const;

export const jobSpecSchema = z.strictObject({
  name: z.string().min(1).max(256).optional(),
  image: jobImageSchema,
  tasks: z.array(taskSpecSchema).min(1).max(JobLimits.MAX_TASKS),
  requirements: requirementsSchema.optional(),
  timeLimitMs: z.number().int().min(JobLimits.MIN_TIME_LIMIT_MS).max(JobLimits.MAX_TIME_LIMIT_MS),
  outputLimits: outputLimitsSchema.optional(),
  redundancy: redundancySchema.optional(),
  /** Run only on members of this allocated slice. */
  slice: jobSliceName.optional(),
});

export type JobImage = z.infer<typeof jobImageSchema>;
export type TaskSpec = z.infer<typeof taskSpecSchema>;
export type Requirements = z.infer<typeof requirementsSchema>;
export type OutputLimits = z.infer<typeof outputLimitsSchema>;
export type Redundancy = z.infer<typeof redundancySchema>;

/** A validated job with defaults filled in. */
export interface JobSpec {
  readonly name?: string;
  readonly image: JobImage;
  readonly tasks: readonly TaskSpec[];
  readonly requirements: Requirements;
  readonly timeLimitMs: number;
  readonly outputLimits: OutputLimits;
  readonly redundancy: Redundancy;
  /** Only members of this slice run the job's tasks. */
  readonly slice?: string;
}

export interface BadJob extends Rejection {
  /** Dotted path of the first problem, e.g. `tasks.3.args.0`; '' for the whole spec. */
  readonly path: string;
}

export type ParsedJob = { readonly ok: true; readonly value: JobSpec } | BadJob;

function badJob(path: (string | number)[], message: string): BadJob {
  const where = path.join('.');
  return { ok: false, code: JobModelErrors.BAD_JOB, reason: `${where || 'job'}: ${message}`, path: where };
}

const encoder = new TextEncoder();

/** Validates a job spec from a user or a peer. */
export function parseJobSpec(raw: unknown): ParsedJob {
  const parsed = jobSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return badJob((issue?.path ?? []).map((p) => (typeof p === 'symbol' ? String(p) : p)), issue?.message ?? 'invalid');
  }
  const s = parsed.data;
  const problem = crossFieldProblem(s);
  if (problem) return problem;
  const value: JobSpec = {
    ...(s.name === undefined ? {} : { name: s.name }),
    image: s.image,
    tasks: s.tasks,
    requirements: s.requirements ?? {},
    timeLimitMs: s.timeLimitMs,
    outputLimits: s.outputLimits ?? { ...DEFAULT_OUTPUT_LIMITS },
    redundancy: s.redundancy ?? { n: 1, k: 1 },
    ...(s.slice === undefined ? {} : { slice: s.slice }),
  };
  return { ok: true, value };
}

/** The rules between fields, checked in spec order so the reported path is the first problem. */
function crossFieldProblem(s: z.infer<typeof jobSpecSchema>): BadJob | null {
  if (s.image.kind === 'x86') {
    const d = s.image.domain;
    if ((d.boot === 'multiboot' || d.boot === 'linux') && d.kernel === undefined) {
      return badJob(['image', 'domain', 'kernel'], `boot '${d.boot}' needs a kernel hash`);
    }
    if (d.boot === 'snapshot' && d.snapshot === undefined) {
      return badJob(['image', 'domain', 'snapshot'], "boot 'snapshot' needs a snapshot hash");
    }
  }
  for (let i = 0; i < s.tasks.length; i++) {
    const t = s.tasks[i]!;
    if (Object.keys(t.env).length > JobLimits.MAX_ENV_VARS) return badJob(['tasks', i, 'env'], `more than ${JobLimits.MAX_ENV_VARS} variables`);
    const paths = new Set<string>();
    for (let f = 0; f < (t.inputFiles?.length ?? 0); f++) {
      const path = t.inputFiles![f]!.path;
      if (paths.has(path)) return badJob(['tasks', i, 'inputFiles', f, 'path'], `duplicate input file ${path}`);
      paths.add(path);
    }
    const bytes = encoder.encode(JSON.stringify(t)).byteLength;
    if (bytes > JobLimits.MAX_TASK_JSON_BYTES) {
      return badJob(['tasks', i], `task is ${bytes} bytes as JSON, over ${JobLimits.MAX_TASK_JSON_BYTES}; move inputs to content-addressed files`);
    }
  }
  const r = s.redundancy;
  if (r) {
    if (r.k > r.n) return badJob(['redundancy', 'k'], `k = ${r.k} exceeds n = ${r.n}`);
    if (2 * r.k <= r.n) return badJob(['redundancy', 'k'], `k = ${r.k} is not a majority of n = ${r.n}`);
  }
  const peers = s.requirements?.peers;
  if (peers !== undefined && r && peers < r.n) {
    return badJob(['requirements', 'peers'], `${peers} peers cannot hold ${r.n} replicas of a task on distinct hosts`);
  }
  return null;
}
