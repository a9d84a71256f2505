/**
 * Runs a WASI task on a Node peer in a `worker_threads` Worker (node-wasi-worker.ts), killed when the task
 * passes its wall-clock limit or is cancelled by run id (worker-task-host.ts). `runWasiTaskInNode` gives every
 * task a fresh thread; `runWasiTaskInNodeReusing` lets tasks with the same `reuseKey` (one job of one submitter)
 * reuse a thread that answered the previous task of that job, which saves the thread's start-up (~0.3 s);
 * `runWasiBatchInNode` runs a spec's `batch` (the copies a host got for one slot) one after another in the job's
 * kept thread, each under its own limits, as the browser runner does. The
 * guest's linear memory is capped by rewriting the module (wasi-run.ts); the worker's JS heap, which holds the in-memory file system and captured output, is capped with
 * resourceLimits.
 */
import { failedResult, runTaskAndBatch, WasiErrors, type WasiTaskResult, type WasiTaskSpec } from './wasi-task.ts';
import { DEFAULT_PROGRAM_NAME, type SandboxRequest } from './sandbox-messages.ts';
import { startNodeWorker, type NodeWorker } from './node-worker-thread.ts';
import { superviseWorkerTask } from './worker-task-host.ts';
import { wasiSandboxPolicy } from './wasi-sandbox-policy.ts';

const WORKER_URL = new URL('./node-wasi-worker.ts', import.meta.url);
/** JS heap of the sandbox thread (not the guest's linear memory): shim, stdin, output and in-memory files. */
const WORKER_HEAP_MIB = 256;
const IDLE_MS = 15_000;
const MAX_IDLE = 4;

interface Parked { readonly key: string; readonly worker: NodeWorker<WasiTaskResult>; readonly timer: ReturnType<typeof setTimeout> }
const parked: Parked[] = [];

function takeParked(key: string): NodeWorker<WasiTaskResult> | null {
  const at = parked.findIndex((p) => p.key === key);
  if (at < 0) return null;
  const [entry] = parked.splice(at, 1);
  clearTimeout(entry!.timer);
  entry!.worker.hold(true);
  return entry!.worker;
}

function park(key: string, worker: NodeWorker<WasiTaskResult>): void {
  if (parked.length >= MAX_IDLE) parked.shift()?.worker.terminate();
  worker.hold(false);
  const entry: Parked = {
    key, worker,
    timer: setTimeout(() => {
      const at = parked.indexOf(entry);
      if (at >= 0) parked.splice(at, 1);
      worker.terminate();
    }, IDLE_MS),
  };
  entry.timer.unref?.();
  // A kept thread that dies while idle is dropped, not handed to the next task.
  worker.onFailure(() => {
    const at = parked.indexOf(entry);
    if (at >= 0) parked.splice(at, 1);
    clearTimeout(entry.timer);
  });
  parked.push(entry);
}

/** A fresh worker thread for this task, whatever its reuseKey. */
export function runWasiTaskInNode(spec: WasiTaskSpec, wasm: Uint8Array, name: string = DEFAULT_PROGRAM_NAME): Promise<WasiTaskResult> {
  const { reuseKey: _ignored, ...fresh } = spec;
  return runWasiTaskInNodeReusing(fresh, wasm, name);
}

/** Like runWasiTaskInNode, but a task with a reuseKey may run in a kept thread of the same key. */
export async function runWasiTaskInNodeReusing(
  spec: WasiTaskSpec, wasm: Uint8Array, name: string = DEFAULT_PROGRAM_NAME,
): Promise<WasiTaskResult> {
  const request: SandboxRequest = { spec, wasm, name };
  const key = spec.reuseKey;
  let worker = key === undefined ? null : takeParked(key);
  const reused = worker !== null;
  try {
    worker ??= startNodeWorker(WORKER_URL, request, 'sandbox thread', { maxOldGenerationSizeMb: WORKER_HEAP_MIB, maxYoungGenerationSizeMb: 32 });
  } catch (err) {
    return failedResult(WasiErrors.SANDBOX_FAILED, `could not start a sandbox thread: ${String(err)}`);
  }
  const kept = worker;
  const result = superviseWorkerTask(worker, {
    ...wasiSandboxPolicy(spec, 'sandbox thread', WORKER_HEAP_MIB),
    ...(key === undefined ? {} : { keep: () => park(key, kept) }),
  });
  if (reused) worker.post(request);
  return result;
}

/**
 * The Node peer's runner, like the browser's: a task runs in its job's kept thread (by reuseKey; a fresh one
 * without), then the copies of its `batch` one by one in the same way. A copy killed at its limit or cancelled
 * takes its thread with it and the next copy starts a fresh one. The batch's results come back in `batch`, in
 * order. (With a fresh thread per copy, ~0.3 s each, copies would never prove short enough to be batched.)
 */
export function runWasiBatchInNode(spec: WasiTaskSpec, wasm: Uint8Array, name: string = DEFAULT_PROGRAM_NAME): Promise<WasiTaskResult> {
  return runTaskAndBatch(spec, (one) => runWasiTaskInNodeReusing(one, wasm, name));
}
