/**
 * Validation of the compute service's commands from tabs (untrusted input): zod schemas and a parser that
 * turns the first problem into a NepheleError with a named code.
 */
import { z } from 'zod';
import { NepheleError } from '../../core/errors.ts';
import { JobLimits } from '../../protocols/scheduler/job-model.ts';
import { MAX_IMAGE_BYTES } from '../../wire/images.ts';

export const ComputeCommandErrors = {
  BAD_ARGS: 'E_BAD_ARGS',
  UNKNOWN_COMMAND: 'E_UNKNOWN_COMMAND',
  UNKNOWN_JOB: 'E_UNKNOWN_JOB',
  NO_MODULE: 'E_NO_MODULE',
  NOT_WASM: 'E_NOT_WASM',
  MODULE_TOO_LARGE: 'E_MODULE_TOO_LARGE',
  IMAGE_MISMATCH: 'E_IMAGE_MISMATCH',
  IMAGE_MISSING: 'E_IMAGE_MISSING',
  BAD_PARTNER: 'E_BAD_PARTNER',
} as const;

/** Files a job may bring: an x86 job's images (kernel, initrd, disk, snapshot, programs), a WASI job's input files. */
export const MAX_SUBMITTED_FILES = 16;

const jobId = z.string().regex(/^[0-9a-f]{16}$/, 'a job id is 16 lowercase hex characters');

export const submitArgs = z.strictObject({
  /** The job model (job-model.ts); a WASI `image` may be left out: it is filled in from `image` bytes. */
  spec: z.record(z.string(), z.unknown()),
  /** A WASI job's module. */
  image: z.instanceof(Uint8Array).optional(),
  /** An x86 job's images, or a WASI job's input files, each named in the spec by its sha256. */
  files: z.array(z.instanceof(Uint8Array).refine((b) => b.byteLength > 0 && b.byteLength <= MAX_IMAGE_BYTES, 'an image of 1 byte to 128 MiB'))
    .max(MAX_SUBMITTED_FILES).optional(),
});
export const partnerArgs = z.strictObject({
  /** The origin of the site that embeds this node's widget (scheme://host[:port]), or null for none. */
  origin: z.string().max(256).nullable(),
});

/** An http(s) origin exactly as URL.origin writes it, or a NepheleError. */
export function checkOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new NepheleError(ComputeCommandErrors.BAD_PARTNER, 'setPartner: origin is not a URL');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin) {
    throw new NepheleError(ComputeCommandErrors.BAD_PARTNER, 'setPartner: origin must be an http(s) origin like https://example.org');
  }
  return origin;
}
export const jobArgs = z.strictObject({ jobId });
export const limitsArgs = z.strictObject({
  maxConcurrent: z.number().int().min(0).max(64),
  cpuCapPercent: z.number().int().min(1).max(100),
  paused: z.boolean(),
});
export const testHookArgs = z.strictObject({ lie: z.boolean() });

export function parseArgs<T>(schema: z.ZodType<T>, command: string, args: unknown): T {
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new NepheleError(ComputeCommandErrors.BAD_ARGS, `${command}: ${issue?.path.map(String).join('.') || 'args'}: ${issue?.message ?? 'invalid'}`);
}

/** A WebAssembly module starts with `\0asm`; bounded by the job model's image size. */
export function checkModule(bytes: Uint8Array): void {
  if (bytes.byteLength === 0) throw new NepheleError(ComputeCommandErrors.NO_MODULE, 'choose a .wasm module to run');
  if (bytes.byteLength < 8 || bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new NepheleError(ComputeCommandErrors.NOT_WASM, 'the module is not WebAssembly');
  }
  if (bytes.byteLength > JobLimits.MAX_WASM_BYTES) {
    throw new NepheleError(ComputeCommandErrors.MODULE_TOO_LARGE, `the module is over ${JobLimits.MAX_WASM_BYTES} bytes`);
  }
}
