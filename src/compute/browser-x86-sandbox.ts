/**
 * Runs an x86 task in the browser: a fresh dedicated module worker (workers/v86.worker.ts) per task with one
 * v86 emulator, terminated when the task ends, passes its time limit or is cancelled (worker-task-host.ts,
 * x86-sandbox-host.ts). Called in a page or the SharedWorker's page side, where `Worker` exists. Images are
 * copied into the worker, so the caller's cache stays intact.
 */
import v86WasmUrl from 'v86/build/v86.wasm?url';
import { prepareX86Task, x86SandboxPolicy } from './x86-sandbox-host.ts';
import type { X86SandboxRequest } from './x86-sandbox-messages.ts';
import { failedX86Result, X86Errors, type X86Images, type X86TaskResult } from './x86-task.ts';
import { browserWorkerChannel } from './browser-worker.ts';
import { superviseWorkerTask } from './worker-task-host.ts';

export async function runX86TaskInBrowser(spec: unknown, images: X86Images): Promise<X86TaskResult> {
  const prepared = prepareX86Task(spec, images);
  if (!prepared.ok) return prepared.result;
  let worker: Worker;
  try {
    worker = new Worker(new URL('../../workers/v86.worker.ts', import.meta.url), { type: 'module', name: 'nephele-v86-sandbox' });
  } catch (err) {
    return failedX86Result(X86Errors.SANDBOX_FAILED, `could not start a v86 worker: ${String(err)}`);
  }
  const result = superviseWorkerTask(browserWorkerChannel<X86TaskResult>(worker, 'v86 worker'), x86SandboxPolicy(prepared.spec, 'v86 worker'));
  // Copies hand over without a second copy; the caller's buffers are not detached.
  const copies = new Map<string, Uint8Array>();
  for (const [hash, bytes] of prepared.images) copies.set(hash, bytes.slice());
  const request: X86SandboxRequest = {
    spec: prepared.spec,
    images: copies,
    wasmPath: new URL(v86WasmUrl, location.href).href,
  };
  worker.postMessage(request, [...copies.values()].map((b) => b.buffer));
  return result;
}
