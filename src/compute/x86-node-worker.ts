/**
 * Entry of a Node `worker_threads` x86 sandbox: one v86 emulator per thread, one task. Receives an
 * X86SandboxRequest as workerData, runs it with v86-run and posts the result; the parent (node-x86-sandbox.ts)
 * kills the thread when it passes the time limit plus a grace period.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runX86Guest } from './v86-run.ts';
import type { X86SandboxReply, X86SandboxRequest } from './x86-sandbox-messages.ts';

const port = parentPort;
if (!port) throw new Error('x86-node-worker.ts must run in a worker thread');
const request = workerData as X86SandboxRequest;
const post = (reply: X86SandboxReply): void => port.postMessage(reply);

post({ type: 'started' });
const result = await runX86Guest(request.spec, request.images, { wasmPath: request.wasmPath });
post({ type: 'result', result });
