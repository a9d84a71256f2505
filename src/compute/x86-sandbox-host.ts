/**
 * The host side of an x86 sandbox, shared by the Node (worker_threads) and browser (module Worker) runners:
 * validates the spec and picks the images it needs, and says how the generic worker lifecycle
 * (worker-task-host.ts) ends for v86 — a start-up deadline, then the task's time limit plus a grace period
 * (the worker enforces the limit itself so the output so far comes back), a cancel by run id, or a crash.
 * Terminating the worker, not v86's `destroy`, is what frees the emulator's memory.
 */
import { X86_KILL_GRACE_MS, X86_SANDBOX_STARTUP_TIMEOUT_MS } from './x86-sandbox-messages.ts';
import {
  failedX86Result, rejectionCode, requiredImages, validateX86TaskSpec, X86Errors,
  type X86Images, type X86TaskResult, type X86TaskSpec,
} from './x86-task.ts';
import type { WorkerTaskPolicy } from './worker-task-host.ts';

/** Validates the spec and selects its images; a rejection is a ready result, no worker needed. */
export function prepareX86Task(
  spec: unknown, images: X86Images,
): { ok: true; spec: X86TaskSpec; images: Map<string, Uint8Array> } | { ok: false; result: X86TaskResult } {
  const checked = validateX86TaskSpec(spec);
  if (!checked.ok) return { ok: false, result: failedX86Result(rejectionCode(checked.code), checked.reason) };
  const needed = new Map<string, Uint8Array>();
  for (const hash of requiredImages(checked.value)) {
    const bytes = images.get(hash);
    if (!bytes) return { ok: false, result: failedX86Result(X86Errors.IMAGE_MISSING, `no image with sha256 ${hash}`) };
    needed.set(hash, bytes);
  }
  return { ok: true, spec: checked.value, images: needed };
}

export function x86SandboxPolicy(spec: X86TaskSpec, label: string): WorkerTaskPolicy<X86TaskResult> {
  return {
    startupTimeoutMs: X86_SANDBOX_STARTUP_TIMEOUT_MS,
    killAfterMs: spec.timeLimitMs + X86_KILL_GRACE_MS,
    runId: spec.runId,
    notStarted: () => failedX86Result(X86Errors.SANDBOX_FAILED, `${label} did not start within ${X86_SANDBOX_STARTUP_TIMEOUT_MS} ms`),
    timedOut: (ms) => failedX86Result(X86Errors.TIME_LIMIT, `worker killed ${spec.timeLimitMs} ms + ${X86_KILL_GRACE_MS} ms grace after start`, ms),
    cancelled: (ms) => failedX86Result(X86Errors.CANCELLED, `cancelled by its host after ${ms} ms`, ms),
    failed: (failure, ms) => failedX86Result(X86Errors.SANDBOX_FAILED, failure.message, ms),
  };
}
