/**
 * The host side of an x86 sandbox, shared by the Node (worker_threads) and browser (module Worker) runners:
 * validates the spec, picks the images it needs, and supervises one worker — a start-up deadline, then the
 * task's time limit plus a grace period, after which the worker is terminated (that, not v86's `destroy`, is
 * what frees the emulator's memory). Whatever happens, the worker is terminated once a result is in.
 */
import { X86_KILL_GRACE_MS, X86_SANDBOX_STARTUP_TIMEOUT_MS, type X86SandboxReply } from './x86-sandbox-messages.ts';
import {
  failedX86Result, requiredImages, validateX86TaskSpec, X86Errors,
  type X86Images, type X86TaskResult, type X86TaskSpec,
} from './x86-task.ts';

/** What the runner needs from a worker, whichever kind it is. */
export interface X86WorkerHandle {
  onReply(listener: (reply: X86SandboxReply) => void): void;
  onFailure(listener: (message: string) => void): void;
  terminate(): void;
}

/** Validates the spec and selects its images; a rejection is a ready result, no worker needed. */
export function prepareX86Task(
  spec: unknown, images: X86Images,
): { ok: true; spec: X86TaskSpec; images: Map<string, Uint8Array> } | { ok: false; result: X86TaskResult } {
  const checked = validateX86TaskSpec(spec);
  if (!checked.ok) return { ok: false, result: failedX86Result(X86Errors.BAD_SPEC, checked.reason) };
  const needed = new Map<string, Uint8Array>();
  for (const hash of requiredImages(checked.value)) {
    const bytes = images.get(hash);
    if (!bytes) return { ok: false, result: failedX86Result(X86Errors.IMAGE_MISSING, `no image with sha256 ${hash}`) };
    needed.set(hash, bytes);
  }
  return { ok: true, spec: checked.value, images: needed };
}

export function superviseX86Worker(worker: X86WorkerHandle, timeLimitMs: number): Promise<X86TaskResult> {
  return new Promise<X86TaskResult>((resolve) => {
    let startedAt: number | null = null;
    let settled = false;
    const elapsed = (): number => (startedAt === null ? 0 : Math.round(performance.now() - startedAt));
    const finish = (result: X86TaskResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.terminate();
      resolve(result);
    };
    let timer = setTimeout(() => {
      finish(failedX86Result(X86Errors.SANDBOX_FAILED, `v86 worker did not start within ${X86_SANDBOX_STARTUP_TIMEOUT_MS} ms`));
    }, X86_SANDBOX_STARTUP_TIMEOUT_MS);

    worker.onReply((reply) => {
      if (reply.type === 'started') {
        startedAt = performance.now();
        clearTimeout(timer);
        timer = setTimeout(() => {
          finish(failedX86Result(X86Errors.TIME_LIMIT, `worker killed ${timeLimitMs} ms + ${X86_KILL_GRACE_MS} ms grace after start`, elapsed()));
        }, timeLimitMs + X86_KILL_GRACE_MS);
      } else {
        finish(reply.result);
      }
    });
    worker.onFailure((message) => finish(failedX86Result(X86Errors.SANDBOX_FAILED, message, elapsed())));
  });
}
