/**
 * Entry of a Node `worker_threads` sandbox: one task per worker. Receives a SandboxRequest as workerData, runs
 * it with wasi-run and posts the result; the parent (node-sandbox.ts) kills the thread at the time limit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runWasiTask } from './wasi-run.ts';
import type { SandboxReply, SandboxRequest } from './sandbox-messages.ts';

const port = parentPort;
if (!port) throw new Error('node-wasi-worker.ts must run in a worker thread');
const request = workerData as SandboxRequest;
const post = (reply: SandboxReply): void => port.postMessage(reply);

post({ type: 'started' });
const result = await runWasiTask(request.spec, request.wasm, request.name);
post({ type: 'result', result });
