/// <reference lib="webworker" />
/**
 * A browser sandbox worker that serves several tasks of ONE job, one at a time (browser-sandbox.ts pools it by
 * the job's reuse key and never hands it another job's task). Like workers/wasi.worker.ts it locks down network
 * and storage globals before any guest runs; each task gets a fresh WASI instance, memory and file system, and
 * only the checked, compiled module is kept between tasks. A task that passes its limit or is cancelled gets
 * the whole worker terminated, so nothing of it carries over.
 */
import { runWasiTask, type ModuleCache } from './wasi-run.ts';
import { lockDownGlobals } from './worker-lockdown.ts';
import type { SandboxReply, SandboxRequest } from './sandbox-messages.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (reply: SandboxReply): void => scope.postMessage(reply);
const cache: ModuleCache = new Map();
let busy = false;
lockDownGlobals(scope);

scope.addEventListener('message', (event: MessageEvent<SandboxRequest>) => {
  if (busy) return;
  busy = true;
  const request = event.data;
  post({ type: 'started' });
  void runWasiTask(request.spec, request.wasm, request.name, cache).then((result) => {
    busy = false;
    post({ type: 'result', result });
  });
});
