/**
 * Runs a WASI task in the browser: a fresh dedicated module worker (workers/wasi.worker.ts) per task, which has
 * no DOM and locks down network and storage globals before the guest runs; or, for a task with a `reuseKey`, a
 * worker that already served a task of the same job (wasi-reuse.worker.ts, browser-worker-pool.ts). The worker
 * is terminated when the task passes its wall-clock limit (counted from the worker's `started`, not from its
 * start-up) or is cancelled by run id (worker-task-host.ts). A spec may carry a `batch` of further tasks of the
 * job, run one after another in the same call (one round trip from the node for many tiny tasks). Called in a
 * page (the SharedWorker reaches it through comlink), where `Worker` exists.
 */
import { failedResult, runTaskAndBatch, WasiErrors, type WasiTaskResult, type WasiTaskSpec } from './wasi-task.ts';
import { DEFAULT_PROGRAM_NAME, type SandboxRequest } from './sandbox-messages.ts';
import { browserWorkerChannel } from './browser-worker.ts';
import { superviseWorkerTask } from './worker-task-host.ts';
import { wasiSandboxPolicy } from './wasi-sandbox-policy.ts';
import { parkWorker, takeParkedWorker } from './browser-worker-pool.ts';

/**
 * Runs a task, and the tasks of its `batch` after it one by one (each in the job's reused worker, under its own
 * limits; a task killed at its limit takes its worker with it and the next one starts a fresh worker).
 */
export function runWasiTaskInBrowser(
  spec: WasiTaskSpec, wasm: Uint8Array, name: string = DEFAULT_PROGRAM_NAME,
): Promise<WasiTaskResult> {
  return runTaskAndBatch(spec, (one) => runOne(one, wasm, name));
}

async function runOne(spec: WasiTaskSpec, wasm: Uint8Array, name: string): Promise<WasiTaskResult> {
  const key = spec.reuseKey;
  let worker: Worker;
  try {
    worker = key === undefined
      ? new Worker(new URL('../../workers/wasi.worker.ts', import.meta.url), { type: 'module', name: 'nephele-wasi-sandbox' })
      : takeParkedWorker(key) ?? new Worker(new URL('./wasi-reuse.worker.ts', import.meta.url), { type: 'module', name: 'nephele-wasi-sandbox' });
  } catch (err) {
    return failedResult(WasiErrors.SANDBOX_FAILED, `could not start a sandbox worker: ${String(err)}`);
  }
  const policy = wasiSandboxPolicy(spec, 'sandbox worker');
  const result = superviseWorkerTask(browserWorkerChannel<WasiTaskResult>(worker, 'sandbox worker'), {
    ...policy, ...(key === undefined ? {} : { keep: () => parkWorker(key, worker) }),
  });
  // Copy the module and input files (they may be views into a larger frame) and hand the copies over.
  const copy = wasm.slice();
  const files = (spec.files ?? []).map((f) => ({ path: f.path, bytes: f.bytes.slice() }));
  const request: SandboxRequest = {
    spec: {
      args: [...spec.args], env: { ...spec.env }, stdin: spec.stdin, timeLimitMs: spec.timeLimitMs, memoryLimitMiB: spec.memoryLimitMiB,
      ...(files.length > 0 ? { files } : {}),
    },
    wasm: copy, name,
  };
  worker.postMessage(request, [copy.buffer, ...files.map((f) => f.bytes.buffer)]);
  return result;
}
