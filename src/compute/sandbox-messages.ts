/**
 * Messages between a sandbox host (page or Node process) and its per-task sandbox worker.
 * The host sends a request; the worker answers `started` when the guest is about to run (the wall-clock
 * limit counts from there, so worker start-up is not charged to the task) and then `result`. A worker kept for
 * the next task of the same job (spec.reuseKey) then receives the next request the same way; it may also be
 * sent a whole batch at once, as one message holding a list of requests, which it queues and runs in order
 * (worker-batch-host.ts).
 */
import type { WasiTaskResult, WasiTaskSpec } from './wasi-task.ts';

export interface SandboxRequest {
  readonly spec: WasiTaskSpec;
  readonly wasm: Uint8Array;
  /** argv[0] for the guest. */
  readonly name: string;
}

/**
 * What a reusable worker (wasi-reuse.worker.ts) receives: a request whose `wasm` is null runs the module of the
 * request before it (a batch posted at once carries the module in its first request only).
 */
export interface ReuseSandboxRequest {
  readonly spec: WasiTaskSpec;
  readonly wasm: Uint8Array | null;
  readonly name: string;
}

export type SandboxReply =
  | { readonly type: 'started' }
  | { readonly type: 'result'; readonly result: WasiTaskResult };

/** How long a sandbox worker may take to load before the task fails with E_SANDBOX_FAILED. */
export const SANDBOX_STARTUP_TIMEOUT_MS = 30_000;

export const DEFAULT_PROGRAM_NAME = 'main.wasm';
