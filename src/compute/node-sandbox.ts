/**
 * Runs a WASI task on a Node peer: a fresh `worker_threads` Worker per task (node-wasi-worker.ts, loaded
 * through tsx since the peer runs TypeScript directly), killed when the task passes its wall-clock limit.
 * The guest's linear memory is capped by rewriting the module (wasi-run.ts); the worker's JS heap, which
 * holds the in-memory file system and captured output, is capped with resourceLimits.
 */
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { failedResult, WasiErrors, type WasiTaskResult, type WasiTaskSpec } from './wasi-task.ts';
import { DEFAULT_PROGRAM_NAME, SANDBOX_STARTUP_TIMEOUT_MS, type SandboxReply, type SandboxRequest } from './sandbox-messages.ts';

const WORKER_URL = new URL('./node-wasi-worker.ts', import.meta.url);
/** JS heap of the sandbox thread (not the guest's linear memory): shim, stdin, output and in-memory files. */
const WORKER_HEAP_MIB = 256;

/**
 * Node 20 does not apply `--import tsx` hooks to a worker's own .ts entry (ERR_UNKNOWN_FILE_EXTENSION), so the
 * worker starts from a small script that loads the entry through tsx's `tsImport` API.
 */
function workerBootstrap(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const apiRelative = pkg.exports['./esm/api']?.import?.default;
  if (!apiRelative) throw new Error('tsx does not export ./esm/api for import');
  const api = pathToFileURL(join(dirname(pkgPath), apiRelative)).href;
  return `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(WORKER_URL.href)}, ${JSON.stringify(import.meta.url)}))`;
}

export async function runWasiTaskInNode(
  spec: WasiTaskSpec, wasm: Uint8Array, name: string = DEFAULT_PROGRAM_NAME,
): Promise<WasiTaskResult> {
  const request: SandboxRequest = { spec, wasm, name };
  let worker: Worker;
  try {
    worker = new Worker(workerBootstrap(), {
      eval: true,
      workerData: request,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MIB, maxYoungGenerationSizeMb: 32 },
      stdout: true,
      stderr: true,
    });
  } catch (err) {
    return failedResult(WasiErrors.SANDBOX_FAILED, `could not start a sandbox thread: ${String(err)}`);
  }

  return new Promise<WasiTaskResult>((resolve) => {
    let startedAt: number | null = null;
    let settled = false;
    const elapsed = () => (startedAt === null ? 0 : Math.round(performance.now() - startedAt));
    const finish = (result: WasiTaskResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    };
    let timer = setTimeout(() => {
      finish(failedResult(WasiErrors.SANDBOX_FAILED, `sandbox thread did not start within ${SANDBOX_STARTUP_TIMEOUT_MS} ms`));
    }, SANDBOX_STARTUP_TIMEOUT_MS);

    worker.on('message', (reply: SandboxReply) => {
      if (reply.type === 'started') {
        startedAt = performance.now();
        clearTimeout(timer);
        timer = setTimeout(() => {
          finish(failedResult(WasiErrors.TIME_LIMIT, `killed after ${spec.timeLimitMs} ms`, elapsed()));
        }, spec.timeLimitMs);
      } else {
        finish(reply.result);
      }
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const outOfMemory = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      finish(failedResult(
        outOfMemory ? WasiErrors.MEMORY_LIMIT : WasiErrors.SANDBOX_FAILED,
        outOfMemory ? `sandbox thread exceeded its ${WORKER_HEAP_MIB} MiB heap` : `sandbox thread failed: ${err.message}`,
        elapsed(),
      ));
    });
    worker.on('exit', (code) => {
      finish(failedResult(WasiErrors.SANDBOX_FAILED, `sandbox thread exited (${code}) without a result`, elapsed()));
    });
  });
}
