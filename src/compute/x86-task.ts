/**
 * An x86 task: a guest machine run in the v86 emulator. The machine (its "domain") is named entirely by sha256
 * hashes of images — a multiboot kernel, or a Linux bzImage + initramfs + SeaBIOS, optionally a booted snapshot —
 * so a host can fetch, cache and verify them like any other content. For a Linux domain the user's program is a
 * static i386 ELF (also named by hash) that the guest runs with the given args and stdin, in a working directory
 * holding the task's input files (inline text, or bytes named by hash like images; the same paths and limits as a
 * WASI task's, wasi-input-files.ts); for a multiboot domain the kernel is the program and the args are its command
 * line, and it can take no files (E_X86_INPUT_FILES_UNSUPPORTED).
 * Shared by the wire format, the sandboxes (Node worker thread, browser worker) and the UI.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';
import { inputPathProblem, wasiInputPath, WasiFileLimits } from './wasi-input-files.ts';

export type X86BootKind = 'multiboot' | 'linux';

export interface X86Domain {
  readonly boot: X86BootKind;
  /** Guest RAM, MiB. Linux needs more than 64 MiB + initrd (v86 loads the initrd at 64 MiB). */
  readonly memoryMB: number;
  /** sha256 of the multiboot ELF or the Linux bzImage. Needed for a cold boot. */
  readonly kernel: string;
  /** sha256 of the initramfs (Linux). */
  readonly initrd?: string;
  /** sha256 of SeaBIOS bios.bin and vgabios (Linux cold boot: bzImage is loaded through an option ROM). */
  readonly bios?: string;
  readonly vgaBios?: string;
  /** sha256 of a raw hard-disk image attached as hda. */
  readonly disk?: string;
  /** sha256 of a v86 state (zstd) saved when this domain's guest printed READY; restored instead of booting. */
  readonly snapshot?: string;
}

/** A file put in the Linux guest's working directory before its program starts: text, or bytes named by sha256. */
export type X86InputFile =
  | { readonly path: string; readonly sha256: string }
  | { readonly path: string; readonly inline: string };

export interface X86TaskSpec {
  readonly domain: X86Domain;
  /** sha256 of a static i386 ELF to run (Linux domains only). */
  readonly program?: string;
  /** Files in the program's working directory when it starts (Linux domains only). */
  readonly inputFiles?: readonly X86InputFile[];
  readonly args: readonly string[];
  readonly stdin: string;
  /** Names of files the program leaves in its working directory to return (Linux domains only). */
  readonly outputFiles?: readonly string[];
  /** Wall-clock limit, ms, boot included; the emulator's worker is killed when it passes. */
  readonly timeLimitMs: number;
  /** Set by a host that may cancel the run: `cancelSandboxRun(runId)` kills its worker (sandbox-cancel.ts). */
  readonly runId?: string;
}

/** Milliseconds from the sandbox's start: guest ready for its command, first byte of output, exit. */
export interface X86Timings {
  readonly readyMs: number;
  readonly firstOutputMs: number | null;
  readonly exitMs: number;
}

export type X86TaskResult =
  | {
    ok: true; exitStatus: number; serial: string; durationMs: number; timings: X86Timings;
    files?: Record<string, string>; restoredFromSnapshot: boolean;
  }
  | { ok: false; code: X86ErrorCode; message: string; serial: string; durationMs: number };

export const X86Limits = {
  MIN_MEMORY_MB: 16,
  MAX_MEMORY_MB: 512,
  /** Linux: v86 puts the initrd at 64 MiB, so RAM must be larger than that plus the initrd. */
  MIN_LINUX_MEMORY_MB: 80,
  MAX_ARGS: 64,
  MAX_ARG_CHARS: 4096,
  MAX_ARGS_TOTAL_CHARS: 32 * 1024,
  MAX_STDIN_CHARS: 1024 * 1024,
  MAX_OUTPUT_FILES: 16,
  MIN_TIME_LIMIT_MS: 100,
  MAX_TIME_LIMIT_MS: 600_000,
  /** Serial output past this stops the guest with E_X86_OUTPUT_LIMIT. */
  MAX_SERIAL_BYTES: 1024 * 1024,
  MAX_OUTPUT_FILE_BYTES: 1024 * 1024,
  MAX_IMAGE_BYTES: 256 * 1024 * 1024,
} as const;

export const X86Errors = {
  BAD_SPEC: 'E_X86_BAD_SPEC',
  IMAGE_MISSING: 'E_X86_IMAGE_MISSING',
  IMAGE_MISMATCH: 'E_X86_IMAGE_MISMATCH',
  TIME_LIMIT: 'E_X86_TIME_LIMIT',
  OUTPUT_LIMIT: 'E_X86_OUTPUT_LIMIT',
  EMULATOR_FAILED: 'E_X86_EMULATOR_FAILED',
  GUEST_PROTOCOL: 'E_X86_GUEST_PROTOCOL',
  /** Input files for a guest that has no file system to put them in (multiboot). */
  INPUT_FILES_UNSUPPORTED: 'E_X86_INPUT_FILES_UNSUPPORTED',
  SANDBOX_FAILED: 'E_X86_SANDBOX_FAILED',
  CANCELLED: 'E_X86_CANCELLED',
} as const;
export type X86ErrorCode = (typeof X86Errors)[keyof typeof X86Errors];

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 as 64 lowercase hex');
const noNul = (max: number) => z.string().max(max).regex(/^[^\0]*$/, 'no NUL characters');
/** The multiboot guest reads its command as one line, so its args cannot hold line breaks. */
const outputFileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a plain file name');

export const x86DomainSchema = z.object({
  boot: z.enum(['multiboot', 'linux']),
  memoryMB: z.number().int().min(X86Limits.MIN_MEMORY_MB).max(X86Limits.MAX_MEMORY_MB),
  kernel: sha256Hex,
  initrd: sha256Hex.optional(),
  bios: sha256Hex.optional(),
  vgaBios: sha256Hex.optional(),
  disk: sha256Hex.optional(),
  snapshot: sha256Hex.optional(),
});

export const x86InputFileSchema = z.union([
  z.strictObject({ path: wasiInputPath, sha256: sha256Hex }),
  z.strictObject({ path: wasiInputPath, inline: z.string().max(WasiFileLimits.MAX_TOTAL_BYTES) }),
]);

export const x86TaskSpecSchema = z.object({
  domain: x86DomainSchema,
  program: sha256Hex.optional(),
  inputFiles: z.array(x86InputFileSchema).max(WasiFileLimits.MAX_FILES).optional(),
  args: z.array(noNul(X86Limits.MAX_ARG_CHARS)).max(X86Limits.MAX_ARGS),
  stdin: z.string().max(X86Limits.MAX_STDIN_CHARS),
  outputFiles: z.array(outputFileName).max(X86Limits.MAX_OUTPUT_FILES).optional(),
  timeLimitMs: z.number().int().min(X86Limits.MIN_TIME_LIMIT_MS).max(X86Limits.MAX_TIME_LIMIT_MS),
  runId: z.string().min(1).max(256).optional(),
});

/** Checks a spec against the schema and the rules that tie its fields to the boot kind. */
export function validateX86TaskSpec(spec: unknown): Decoded<X86TaskSpec> {
  const parsed = x86TaskSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(X86Errors.BAD_SPEC, `${issue?.path.join('.') || 'spec'}: ${issue?.message ?? 'invalid'}`);
  }
  const s = parsed.data;
  const total = s.args.reduce((n, a) => n + a.length, 0);
  if (total > X86Limits.MAX_ARGS_TOTAL_CHARS) {
    return reject(X86Errors.BAD_SPEC, `args total ${total} characters, over ${X86Limits.MAX_ARGS_TOTAL_CHARS}`);
  }
  const d = s.domain;
  if (d.boot === 'multiboot' && s.inputFiles?.length) {
    return reject(X86Errors.INPUT_FILES_UNSUPPORTED, 'a multiboot guest has no file system: it takes no input files (use a Linux guest)');
  }
  const pathProblem = inputPathProblem((s.inputFiles ?? []).map((f) => f.path));
  if (pathProblem !== null) return reject(X86Errors.BAD_SPEC, `inputFiles: ${pathProblem}`);
  if (d.boot === 'multiboot') {
    if (s.program !== undefined) return reject(X86Errors.BAD_SPEC, 'a multiboot domain runs its kernel; program must be absent');
    if (s.outputFiles?.length) return reject(X86Errors.BAD_SPEC, 'a multiboot domain has no files to return');
    if (s.stdin !== '') return reject(X86Errors.BAD_SPEC, 'a multiboot domain has no stdin');
    if (s.args.some((a) => /[\r\n]/.test(a))) return reject(X86Errors.BAD_SPEC, 'multiboot args cannot contain line breaks');
    if (d.initrd || d.bios || d.vgaBios) return reject(X86Errors.BAD_SPEC, 'a multiboot domain boots without initrd or BIOS');
  } else {
    if (s.program === undefined) return reject(X86Errors.BAD_SPEC, 'a linux domain needs a program (sha256 of a static i386 ELF)');
    if (d.memoryMB < X86Limits.MIN_LINUX_MEMORY_MB) {
      return reject(X86Errors.BAD_SPEC, `a linux domain needs at least ${X86Limits.MIN_LINUX_MEMORY_MB} MiB`);
    }
    if (!d.snapshot && (!d.initrd || !d.bios || !d.vgaBios)) {
      return reject(X86Errors.BAD_SPEC, 'a linux cold boot needs initrd, bios and vgaBios');
    }
  }
  return accept(s);
}

/** The hashes a spec needs, in the order they are used (input files by hash last); a snapshot replaces the boot images. */
export function requiredImages(spec: X86TaskSpec): string[] {
  const d = spec.domain;
  const boot = d.snapshot ? [d.snapshot] : [d.kernel, d.initrd, d.bios, d.vgaBios];
  const files = (spec.inputFiles ?? []).flatMap((f) => ('sha256' in f ? [f.sha256] : []));
  return [...new Set([...boot, d.disk, spec.program, ...files].filter((h): h is string => h !== undefined))];
}

/** Content-addressed image bytes a host holds, keyed by sha256 hex. */
export type X86Images = ReadonlyMap<string, Uint8Array>;

/** The code of a spec validateX86TaskSpec rejected (it rejects only with X86 codes). */
export function rejectionCode(code: string): X86ErrorCode {
  return code === X86Errors.INPUT_FILES_UNSUPPORTED ? X86Errors.INPUT_FILES_UNSUPPORTED : X86Errors.BAD_SPEC;
}

export function failedX86Result(code: X86ErrorCode, message: string, durationMs = 0, serial = ''): X86TaskResult {
  return { ok: false, code, message, serial, durationMs };
}
