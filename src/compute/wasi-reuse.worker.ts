/// <reference lib="webworker" />
/**
 * A browser sandbox worker that serves several tasks of ONE job, one at a time (browser-sandbox.ts pools it by
 * the job's reuse key and never hands it another job's task). Like workers/wasi.worker.ts it locks down network
 * and storage globals before any guest runs; each task gets a fresh WASI instance, memory and file system, and
 * only the checked, compiled module is kept between tasks. Requests that arrive while a task runs are queued and
 * run in order (a batch comes as one message, a list of requests, worker-batch-host.ts; a request without a module runs the previous
 * request's). A task that passes its limit or is cancelled gets the whole worker terminated, queue and all, so
 * nothing of it carries over.
 */
import { runWasiTask, type ModuleCache } from './wasi-run.ts';
import { failedResult, WasiErrors } from './wasi-task.ts';
import { lockDownGlobals } from './worker-lockdown.ts';
import type { ReuseSandboxRequest, SandboxReply } from './sandbox-messages.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (reply: SandboxReply): void => scope.postMessage(reply);
const cache: ModuleCache = new Map();
const queue: ReuseSandboxRequest[] = [];
let module: Uint8Array | null = null;
let running = false;
lockDownGlobals(scope);

async function drain(): Promise<void> {
  running = true;
  for (let request = queue.shift(); request !== undefined; request = queue.shift()) {
    if (request.wasm !== null) module = request.wasm;
    post({ type: 'started' });
    const result = module === null
      ? failedResult(WasiErrors.SANDBOX_FAILED, 'a batched request came without a module')
      : await runWasiTask(request.spec, module, request.name, cache);
    post({ type: 'result', result });
  }
  running = false;
}

scope.addEventListener('message', (event: MessageEvent<ReuseSandboxRequest | ReuseSandboxRequest[]>) => {
  if (Array.isArray(event.data)) queue.push(...event.data);
  else queue.push(event.data);
  if (!running) void drain();
});
