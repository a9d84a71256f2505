/**
 * Runs an x86 task on a Node peer: a fresh `worker_threads` Worker per task (x86-node-worker.ts) holding one
 * v86 emulator, terminated when the task ends, passes its time limit or is cancelled (worker-task-host.ts,
 * x86-sandbox-host.ts).
 */
import { createRequire } from 'node:module';
import { prepareX86Task, x86SandboxPolicy } from './x86-sandbox-host.ts';
import type { X86SandboxRequest } from './x86-sandbox-messages.ts';
import { failedX86Result, X86Errors, type X86Images, type X86TaskResult } from './x86-task.ts';
import { startNodeWorker } from './node-worker-thread.ts';
import { superviseWorkerTask, type WorkerChannel } from './worker-task-host.ts';

const WORKER_URL = new URL('./x86-node-worker.ts', import.meta.url);
const require = createRequire(import.meta.url);

export async function runX86TaskInNode(spec: unknown, images: X86Images): Promise<X86TaskResult> {
  const prepared = prepareX86Task(spec, images);
  if (!prepared.ok) return prepared.result;
  const request: X86SandboxRequest = { spec: prepared.spec, images: prepared.images, wasmPath: require.resolve('v86/build/v86.wasm') };
  let worker: WorkerChannel<X86TaskResult>;
  try {
    worker = startNodeWorker(WORKER_URL, request, 'v86 thread');
  } catch (err) {
    return failedX86Result(X86Errors.SANDBOX_FAILED, `could not start a v86 thread: ${String(err)}`);
  }
  return superviseWorkerTask(worker, x86SandboxPolicy(prepared.spec, 'v86 thread'));
}
