/**
 * Runs an x86 task on a Node peer: a fresh `worker_threads` Worker per task (x86-node-worker.ts, loaded through
 * tsx like node-sandbox.ts does for WASI) holding one v86 emulator, terminated when the task ends or passes its
 * time limit (x86-sandbox-host.ts).
 */
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { prepareX86Task, superviseX86Worker } from './x86-sandbox-host.ts';
import type { X86SandboxReply, X86SandboxRequest } from './x86-sandbox-messages.ts';
import { failedX86Result, X86Errors, type X86Images, type X86TaskResult } from './x86-task.ts';

const WORKER_URL = new URL('./x86-node-worker.ts', import.meta.url);
const require = createRequire(import.meta.url);

/** Node 20 does not apply tsx's hooks to a worker's .ts entry, so the worker imports it through tsx's API. */
function workerBootstrap(): string {
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const apiRelative = pkg.exports['./esm/api']?.import?.default;
  if (!apiRelative) throw new Error('tsx does not export ./esm/api for import');
  const api = pathToFileURL(join(dirname(pkgPath), apiRelative)).href;
  return `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(WORKER_URL.href)}, ${JSON.stringify(import.meta.url)}))`;
}

export async function runX86TaskInNode(spec: unknown, images: X86Images): Promise<X86TaskResult> {
  const prepared = prepareX86Task(spec, images);
  if (!prepared.ok) return prepared.result;
  const request: X86SandboxRequest = { spec: prepared.spec, images: prepared.images, wasmPath: require.resolve('v86/build/v86.wasm') };
  let worker: Worker;
  try {
    worker = new Worker(workerBootstrap(), { eval: true, workerData: request, stdout: true, stderr: true });
  } catch (err) {
    return failedX86Result(X86Errors.SANDBOX_FAILED, `could not start a v86 thread: ${String(err)}`);
  }
  return superviseX86Worker({
    onReply: (listener) => worker.on('message', (reply: X86SandboxReply) => listener(reply)),
    onFailure: (listener) => {
      worker.on('error', (err: Error) => listener(`v86 thread failed: ${err.message}`));
      worker.on('exit', (code) => listener(`v86 thread exited (${code}) without a result`));
    },
    terminate: () => { void worker.terminate(); },
  }, prepared.spec.timeLimitMs);
}
