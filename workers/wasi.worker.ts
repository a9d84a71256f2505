/// <reference lib="webworker" />
/**
 * A browser sandbox for one WASI task (a dedicated module worker, started and terminated per task by
 * src/compute/browser-sandbox.ts). It locks down network and storage globals, receives one SandboxRequest,
 * posts `started`, runs the guest with wasi-run and posts the result. The page kills it at the time limit.
 */
import { runWasiTask } from '../src/compute/wasi-run.ts';
import { lockDownGlobals } from '../src/compute/worker-lockdown.ts';
import type { SandboxReply, SandboxRequest } from '../src/compute/sandbox-messages.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (reply: SandboxReply): void => scope.postMessage(reply);
let busy = false;

scope.addEventListener('message', (event: MessageEvent<SandboxRequest>) => {
  if (busy) return;
  busy = true;
  const request = event.data;
  lockDownGlobals(scope);
  post({ type: 'started' });
  void runWasiTask(request.spec, request.wasm, request.name).then((result) => post({ type: 'result', result }));
});
