/**
 * Runs an x86 task in the browser: a fresh dedicated module worker (workers/v86.worker.ts) per task with one
 * v86 emulator, terminated when the task ends or passes its time limit (x86-sandbox-host.ts). Called in a page
 * or the SharedWorker's page side, where `Worker` exists. Images are copied into the worker, so the caller's
 * cache stays intact.
 */
import v86WasmUrl from 'v86/build/v86.wasm?url';
import { prepareX86Task, superviseX86Worker } from './x86-sandbox-host.ts';
import type { X86SandboxReply, X86SandboxRequest } from './x86-sandbox-messages.ts';
import { failedX86Result, X86Errors, type X86Images, type X86TaskResult } from './x86-task.ts';

export async function runX86TaskInBrowser(spec: unknown, images: X86Images): Promise<X86TaskResult> {
  const prepared = prepareX86Task(spec, images);
  if (!prepared.ok) return prepared.result;
  let worker: Worker;
  try {
    worker = new Worker(new URL('../../workers/v86.worker.ts', import.meta.url), { type: 'module', name: 'nephele-v86-sandbox' });
  } catch (err) {
    return failedX86Result(X86Errors.SANDBOX_FAILED, `could not start a v86 worker: ${String(err)}`);
  }
  const result = superviseX86Worker({
    onReply: (listener) => { worker.onmessage = (event: MessageEvent<X86SandboxReply>) => listener(event.data); },
    onFailure: (listener) => {
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        listener(`v86 worker failed: ${event.message || 'error while loading or running'}`);
      };
      worker.onmessageerror = () => listener('v86 worker sent a message that could not be read');
    },
    terminate: () => worker.terminate(),
  }, prepared.spec.timeLimitMs);

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
