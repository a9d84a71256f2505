/**
 * Messages between an x86 sandbox host (page or Node process) and its per-task v86 worker. The host sends one
 * request; the worker answers `started` when it has loaded (the wall-clock limit counts from there) and then
 * `result`. The worker enforces the limit itself (so the output so far comes back); the host kills the worker
 * a grace period later in case the emulator never yields.
 */
import type { X86TaskResult, X86TaskSpec } from './x86-task.ts';

export interface X86SandboxRequest {
  readonly spec: X86TaskSpec;
  /** Image bytes by sha256 (only the ones the spec needs). */
  readonly images: ReadonlyMap<string, Uint8Array>;
  /** Where the worker loads v86.wasm from (a path in Node, a URL in the browser). */
  readonly wasmPath: string;
}

export type X86SandboxReply =
  | { readonly type: 'started' }
  | { readonly type: 'result'; readonly result: X86TaskResult };

/** How long a v86 worker may take to load before the task fails with E_X86_SANDBOX_FAILED. */
export const X86_SANDBOX_STARTUP_TIMEOUT_MS = 30_000;
/** The host kills the worker this long after the time limit if the worker has not answered by then. */
export const X86_KILL_GRACE_MS = 2_000;
