/**
 * Starting a sandbox as a Node `worker_threads` Worker from a TypeScript entry, and reading it as a
 * WorkerChannel (worker-task-host.ts). Node 20 does not apply tsx's hooks to a worker's own .ts entry
 * (ERR_UNKNOWN_FILE_EXTENSION), so the worker starts from a small script that loads the entry through tsx's
 * `tsImport` API. Listeners set through the channel replace the previous ones, so a worker kept for another
 * task (node-sandbox.ts) answers only its current supervisor.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkerChannel, WorkerFailure, WorkerReply } from './worker-task-host.ts';

const require = createRequire(import.meta.url);

function bootstrap(entry: URL): string {
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const apiRelative = pkg.exports['./esm/api']?.import?.default;
  if (!apiRelative) throw new Error('tsx does not export ./esm/api for import');
  const api = pathToFileURL(join(dirname(pkgPath), apiRelative)).href;
  return `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)}))`;
}

export interface NodeWorker<R> extends WorkerChannel<R> {
  post(message: unknown): void;
  /** Whether the thread keeps the process alive (an idle kept worker should not). */
  hold(on: boolean): void;
}

/** Starts `entry` in a worker thread with `workerData`; throws if the thread cannot be created. */
export function startNodeWorker<R>(entry: URL, workerData: unknown, label: string, resourceLimits?: ResourceLimits): NodeWorker<R> {
  const worker = new Worker(bootstrap(entry), {
    eval: true, workerData, stdout: true, stderr: true, ...(resourceLimits ? { resourceLimits } : {}),
  });
  let onReply: (reply: WorkerReply<R>) => void = () => {};
  let onFailure: (failure: WorkerFailure) => void = () => {};
  worker.on('message', (reply: WorkerReply<R>) => onReply(reply));
  worker.on('error', (err: Error & { code?: string }) => {
    onFailure({ message: `${label} failed: ${err.message}`, outOfMemory: err.code === 'ERR_WORKER_OUT_OF_MEMORY' });
  });
  worker.on('exit', (code) => onFailure({ message: `${label} exited (${code}) without a result`, outOfMemory: false }));
  return {
    onReply: (listener) => { onReply = listener; },
    onFailure: (listener) => { onFailure = listener; },
    terminate: () => {
      onReply = () => {};
      onFailure = () => {};
      void worker.terminate();
    },
    post: (message) => worker.postMessage(message),
    hold: (on) => { if (on) worker.ref(); else worker.unref(); },
  };
}
