/**
 * x86 jobs in the compute service: how a leased task of a job whose image is `{kind: 'x86', domain}` (the job
 * model's domain) becomes a v86 task (compute/x86-task.ts), which images a host must fetch for it, and how the
 * emulator's result becomes the WASI-shaped result the host reports (serial output as stdout, exit status as exit
 * code), so the quorum compares x86 results exactly like WASI ones.
 *
 * The job model names a Linux guest's program as a task input file at path `program` (X86_PROGRAM_FILE), by
 * sha256; its other input files (inline text, or by sha256: fetched and verified like images) are put in the
 * program's working directory. A multiboot guest's args are its command line; it has no file system, so a job
 * giving it input files is refused at submit (E_X86_INPUT_FILES_UNSUPPORTED). Cold Linux boots need BIOS images
 * the job model cannot name yet, so Linux jobs run from a booted snapshot.
 */
import { NepheleError } from '../../core/errors.ts';
import type { JobImage, TaskSpec } from '../../protocols/scheduler/job-model.ts';
import type { WasiTaskResult } from '../../compute/wasi-task.ts';
import { requiredImages, validateX86TaskSpec, X86Errors, type X86TaskResult, type X86TaskSpec } from '../../compute/x86-task.ts';

/** The input file path that carries a Linux guest's static i386 program. */
export const X86_PROGRAM_FILE = 'program';

type X86JobImage = Extract<JobImage, { kind: 'x86' }>;

export type X86Plan =
  | { readonly ok: true; readonly spec: X86TaskSpec; readonly images: readonly string[] }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** Builds the v86 task for one task of an x86 job; a rejection is deterministic, so every host agrees on it. */
export function planX86Task(image: X86JobImage, task: TaskSpec, timeLimitMs: number): X86Plan {
  const d = image.domain;
  const files = task.inputFiles ?? [];
  const program = files.find((f) => f.path === X86_PROGRAM_FILE);
  const others = files.filter((f) => f.path !== X86_PROGRAM_FILE);
  if (program && !('sha256' in program)) return { ok: false, code: X86Errors.BAD_SPEC, message: `"${X86_PROGRAM_FILE}" must be named by sha256` };
  if (Object.keys(task.env).length > 0) return { ok: false, code: X86Errors.BAD_SPEC, message: 'x86 guests take no environment variables' };
  // 'snapshot' boots name only the state; the program's presence tells which guest protocol it speaks.
  const boot = d.boot === 'snapshot' ? (program ? 'linux' : 'multiboot') : d.boot;
  const kernel = d.kernel ?? d.snapshot;
  const candidate = {
    domain: {
      boot, memoryMB: d.memoryMB, kernel,
      ...(d.initrd ? { initrd: d.initrd } : {}),
      ...(d.disk ? { disk: d.disk } : {}),
      ...(d.snapshot ? { snapshot: d.snapshot } : {}),
    },
    ...(program && 'sha256' in program ? { program: program.sha256 } : {}),
    ...(others.length > 0 ? { inputFiles: others } : {}),
    args: task.args, stdin: task.stdin, timeLimitMs,
  };
  const checked = validateX86TaskSpec(candidate);
  if (!checked.ok) return { ok: false, code: checked.code, message: checked.reason };
  return { ok: true, spec: checked.value, images: requiredImages(checked.value) };
}

/**
 * Every hash a submitter must hold for an x86 job: what hosts fetch to run it (the snapshot, or the boot images
 * without one; a disk), each task's program and its input files named by sha256. Throws E_X86_INPUT_FILES_UNSUPPORTED
 * (a NepheleError) for a multiboot job whose tasks bring input files: refused at submit, not failed on every host.
 */
export function x86JobHashes(image: X86JobImage, tasks: readonly TaskSpec[]): string[] {
  const d = image.domain;
  const boot = d.snapshot ? [d.snapshot] : [d.kernel, d.initrd];
  const hashes = new Set([...boot, d.disk].filter((h): h is string => h !== undefined));
  for (const t of tasks) {
    const files = t.inputFiles ?? [];
    const hasProgram = files.some((f) => f.path === X86_PROGRAM_FILE);
    const multiboot = d.boot === 'multiboot' || (d.boot === 'snapshot' && !hasProgram);
    if (multiboot && files.length > 0) {
      throw new NepheleError(X86Errors.INPUT_FILES_UNSUPPORTED, 'the multiboot guest has no file system and takes no input files; use the Linux guest');
    }
    for (const f of files) if ('sha256' in f) hashes.add(f.sha256);
  }
  return [...hashes];
}

/** Host-side failures (the emulator could not start or crashed): the lease is handed back, not voted on. */
export function isHostFailure(result: X86TaskResult): boolean {
  return !result.ok && (result.code === X86Errors.SANDBOX_FAILED || result.code === X86Errors.EMULATOR_FAILED || result.code === X86Errors.IMAGE_MISSING);
}

/** The emulator's result in the shape quorum voting digests: serial output as stdout, exit status as exit code. */
export function x86ToTaskResult(result: X86TaskResult): WasiTaskResult {
  if (result.ok) return { ok: true, exitCode: result.exitStatus, stdout: result.serial, stderr: '', durationMs: result.durationMs };
  return { ok: false, code: result.code, message: result.message, stdout: result.serial, stderr: '', durationMs: result.durationMs };
}
