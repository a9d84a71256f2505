/**
 * Runs a WASI task in the browser: a fresh dedicated module worker (workers/wasi.worker.ts) per task, which has
 * no DOM and locks down network and storage globals before the guest runs; or, for a task with a `reuseKey`, a
 * worker that already served a task of the same job (wasi-reuse.worker.ts, browser-worker-pool.ts). The worker
 * is terminated when the task passes its wall-clock limit (counted from the worker's `started`, not from its
 * start-up) or is cancelled by run id (worker-task-host.ts). A spec may carry a `batch` of further tasks of the
 * job, run one after another in the same call (one round trip from the node for many tiny tasks); a batch with a
 * reuse key is posted to its worker all at once and runs there back to back (worker-batch-host.ts). Called in a
 * page (the SharedWorker reaches it through comlink), where `Worker` exists.
 */
import { failedResult, runTaskAndBatch, WasiErrors, WasiLimits, type WasiTaskResult, type WasiTaskSpec } from './wasi-task.ts';
import { DEFAULT_PROGRAM_NAME, type ReuseSandboxRequest, type SandboxRequest } from './sandbox-messages.ts';
import { browserWorkerChannel } from './browser-worker.ts';
import { superviseWorkerTask } from './worker-task-host.ts';
import { wasiSandboxPolicy } from './wasi-sandbox-policy.ts';
import { parkWorker, takeParkedWorker } from './browser-worker-pool.ts';
import { runBatchInOneWorker, type BatchWorker } from './worker-batch-host.ts';

/** Written out in place: Vite bundles a worker only from `new Worker(new URL(…, import.meta.url))` itself. */
function newReuseWorker(): Worker {
  return new Worker(new URL('./wasi-reuse.worker.ts', import.meta.url), { type: 'module', name: 'nephele-wasi-sandbox' });
}

/**
 * Runs a task, and the tasks of its `batch` after it one by one (each in the job's reused worker, under its own
 * limits; a task killed at its limit takes its worker with it and the next one starts a fresh worker).
 */
export function runWasiTaskInBrowser(
  spec: WasiTaskSpec, wasm: Uint8Array, name: string = DEFAULT_PROGRAM_NAME,
): Promise<WasiTaskResult> {
  const { batch, ...first } = spec;
  const key = first.reuseKey;
  if (key !== undefined && batch !== undefined && batch.length > 0 && batch.length <= WasiLimits.MAX_BATCH_TASKS && batch.every((b) => b.reuseKey === key)) {
    return runPipelined([first, ...batch.map(({ batch: _nested, ...one }) => one)], wasm, name, key);
  }
  return runTaskAndBatch(spec, (one) => runOne(one, wasm, name));
}

/** A batch of one job in one reused worker, every request posted at once (the module with the first only). */
async function runPipelined(specs: readonly WasiTaskSpec[], wasm: Uint8Array, name: string, key: string): Promise<WasiTaskResult> {
  const open = (): BatchWorker<WasiTaskResult> | null => {
    let worker: Worker;
    try {
      worker = takeParkedWorker(key) ?? newReuseWorker();
    } catch {
      return null;
    }
    return {
      channel: browserWorkerChannel<WasiTaskResult>(worker, 'sandbox worker'),
      // One message for the whole rest of the batch (the worker queues its requests in order).
      send: (indices) => {
        const parts = indices.map((index, i) => sandboxRequest(specs[index]!, i === 0 ? wasm : null, name));
        worker.postMessage(parts.map((p) => p.request), parts.flatMap((p) => p.transfer));
      },
      park: () => parkWorker(key, worker),
    };
  };
  const [head, ...rest] = await runBatchInOneWorker(
    specs.length, open, (i) => wasiSandboxPolicy(specs[i]!, 'sandbox worker'),
    () => failedResult(WasiErrors.SANDBOX_FAILED, 'could not start a sandbox worker'),
  );
  return { ...head!, batch: rest };
}

/** The request for one task, its module and input files copied (they may be views into a larger frame) for transfer. */
function sandboxRequest(spec: WasiTaskSpec, wasm: Uint8Array | null, name: string): { request: ReuseSandboxRequest | SandboxRequest; transfer: ArrayBuffer[] } {
  const copy = wasm?.slice() ?? null;
  const files = (spec.files ?? []).map((f) => ({ path: f.path, bytes: f.bytes.slice() }));
  const request: ReuseSandboxRequest | SandboxRequest = {
    spec: {
      args: [...spec.args], env: { ...spec.env }, stdin: spec.stdin, timeLimitMs: spec.timeLimitMs, memoryLimitMiB: spec.memoryLimitMiB,
      ...(files.length > 0 ? { files } : {}),
    },
    wasm: copy, name,
  };
  return { request, transfer: [...(copy ? [copy.buffer as ArrayBuffer] : []), ...files.map((f) => f.bytes.buffer as ArrayBuffer)] };
}

async function runOne(spec: WasiTaskSpec, wasm: Uint8Array, name: string): Promise<WasiTaskResult> {
  const key = spec.reuseKey;
  let worker: Worker;
  try {
    worker = key === undefined
      ? new Worker(new URL('../../workers/wasi.worker.ts', import.meta.url), { type: 'module', name: 'nephele-wasi-sandbox' })
      : takeParkedWorker(key) ?? newReuseWorker();
  } catch (err) {
    return failedResult(WasiErrors.SANDBOX_FAILED, `could not start a sandbox worker: ${String(err)}`);
  }
  const policy = wasiSandboxPolicy(spec, 'sandbox worker');
  const result = superviseWorkerTask(browserWorkerChannel<WasiTaskResult>(worker, 'sandbox worker'), {
    ...policy, ...(key === undefined ? {} : { keep: () => parkWorker(key, worker) }),
  });
  const { request, transfer } = sandboxRequest(spec, wasm, name);
  worker.postMessage(request, transfer);
  return result;
}
