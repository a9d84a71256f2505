/**
 * How a WASI sandbox worker's ends become WasiTaskResults (worker-task-host.ts): killed at the task's time limit
 * (E_TIME_LIMIT), out of heap (E_MEMORY_LIMIT), cancelled by its host (E_CANCELLED), or a worker that failed or
 * never started (E_SANDBOX_FAILED, which a host treats as its own failure, not the guest's).
 */
import { failedResult, WasiErrors, type WasiTaskResult, type WasiTaskSpec } from './wasi-task.ts';
import { SANDBOX_STARTUP_TIMEOUT_MS } from './sandbox-messages.ts';
import type { WorkerTaskPolicy } from './worker-task-host.ts';

export function wasiSandboxPolicy(spec: WasiTaskSpec, label: string, heapMiB?: number): WorkerTaskPolicy<WasiTaskResult> {
  return {
    startupTimeoutMs: SANDBOX_STARTUP_TIMEOUT_MS,
    killAfterMs: spec.timeLimitMs,
    runId: spec.runId,
    notStarted: () => failedResult(WasiErrors.SANDBOX_FAILED, `${label} did not start within ${SANDBOX_STARTUP_TIMEOUT_MS} ms`),
    timedOut: (ms) => failedResult(WasiErrors.TIME_LIMIT, `killed after ${spec.timeLimitMs} ms`, ms),
    cancelled: (ms) => failedResult(WasiErrors.CANCELLED, `cancelled by its host after ${ms} ms`, ms),
    failed: (failure, ms) => failure.outOfMemory
      ? failedResult(WasiErrors.MEMORY_LIMIT, `${label} exceeded its ${heapMiB ?? '?'} MiB heap`, ms)
      : failedResult(WasiErrors.SANDBOX_FAILED, failure.message, ms),
  };
}
