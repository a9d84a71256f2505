/**
 * Entry of a Node `worker_threads` WASI sandbox. Runs the SandboxRequest it was started with (workerData), then
 * any further requests its parent posts, one at a time: node-sandbox.ts keeps a worker that answered for the
 * next task of the same job and kills it at a task's time limit. Each task gets a fresh WASI instance, memory
 * and file system; only the checked, compiled module is kept.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runWasiTask, type ModuleCache } from './wasi-run.ts';
import type { SandboxReply, SandboxRequest } from './sandbox-messages.ts';

const port = parentPort;
if (!port) throw new Error('node-wasi-worker.ts must run in a worker thread');
const post = (reply: SandboxReply): void => port.postMessage(reply);
const cache: ModuleCache = new Map();

async function serve(request: SandboxRequest): Promise<void> {
  post({ type: 'started' });
  post({ type: 'result', result: await runWasiTask(request.spec, request.wasm, request.name, request.spec.reuseKey === undefined ? undefined : cache) });
}

let queue = serve(workerData as SandboxRequest);
port.on('message', (request: SandboxRequest) => {
  queue = queue.then(() => serve(request));
});
