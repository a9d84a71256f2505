/// <reference lib="webworker" />
/**
 * A browser sandbox for one x86 task: a dedicated module worker holding one v86 emulator, started and
 * terminated per task by src/compute/browser-x86-sandbox.ts (terminating the worker is what frees v86's
 * memory). It receives one X86SandboxRequest, posts `started`, runs the guest with v86-run and posts the result.
 * Network and storage globals are shadowed once v86 has fetched its wasm, before the guest runs.
 */
import { runX86Guest } from '../src/compute/v86-run.ts';
import { lockDownGlobals } from '../src/compute/worker-lockdown.ts';
import type { X86SandboxReply, X86SandboxRequest } from '../src/compute/x86-sandbox-messages.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (reply: X86SandboxReply): void => scope.postMessage(reply);
let busy = false;

scope.addEventListener('message', (event: MessageEvent<X86SandboxRequest>) => {
  if (busy) return;
  busy = true;
  const request = event.data;
  post({ type: 'started' });
  void runX86Guest(request.spec, request.images, {
    wasmPath: request.wasmPath,
    onEmulatorLoaded: () => { lockDownGlobals(scope); },
  }).then((result) => post({ type: 'result', result }));
});
