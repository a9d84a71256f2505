/**
 * Runs a WASI task in the browser: a fresh dedicated module worker (workers/wasi.worker.ts) per task, which has
 * no DOM and locks down network and storage globals before the guest runs. The page terminates the worker when
 * the task passes its wall-clock limit (counted from the worker's `started`, not from its start-up).
 * Called in a page (the SharedWorker reaches it through comlink), where `Worker` exists.
 */
import { failedResult, WasiErrors, type WasiTaskResult, type WasiTaskSpec } from './wasi-task.ts';
import { DEFAULT_PROGRAM_NAME, SANDBOX_STARTUP_TIMEOUT_MS, type SandboxReply, type SandboxRequest } from './sandbox-messages.ts';

export async function runWasiTaskInBrowser(
  spec: WasiTaskSpec, wasm: Uint8Array, name: string = DEFAULT_PROGRAM_NAME,
): Promise<WasiTaskResult> {
  let worker: Worker;
  try {
    worker = new Worker(new URL('../../workers/wasi.worker.ts', import.meta.url), { type: 'module', name: 'nephele-wasi-sandbox' });
  } catch (err) {
    return failedResult(WasiErrors.SANDBOX_FAILED, `could not start a sandbox worker: ${String(err)}`);
  }

  return new Promise<WasiTaskResult>((resolve) => {
    let startedAt: number | null = null;
    let settled = false;
    const elapsed = () => (startedAt === null ? 0 : Math.round(performance.now() - startedAt));
    const finish = (result: WasiTaskResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.terminate();
      resolve(result);
    };
    let timer = setTimeout(() => {
      finish(failedResult(WasiErrors.SANDBOX_FAILED, `sandbox worker did not start within ${SANDBOX_STARTUP_TIMEOUT_MS} ms`));
    }, SANDBOX_STARTUP_TIMEOUT_MS);

    worker.onmessage = (event: MessageEvent<SandboxReply>) => {
      const reply = event.data;
      if (reply.type === 'started') {
        startedAt = performance.now();
        clearTimeout(timer);
        timer = setTimeout(() => {
          finish(failedResult(WasiErrors.TIME_LIMIT, `killed after ${spec.timeLimitMs} ms`, elapsed()));
        }, spec.timeLimitMs);
      } else if (reply.type === 'result') {
        finish(reply.result);
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      finish(failedResult(WasiErrors.SANDBOX_FAILED, `sandbox worker failed: ${event.message || 'error while loading or running'}`, elapsed()));
    };
    worker.onmessageerror = () => {
      finish(failedResult(WasiErrors.SANDBOX_FAILED, 'sandbox worker sent a message that could not be read', elapsed()));
    };

    // Copy the module (it may be a view into a larger frame) and hand the copy's buffer over without another copy.
    const copy = wasm.slice();
    const request: SandboxRequest = {
      spec: { args: [...spec.args], env: { ...spec.env }, stdin: spec.stdin, timeLimitMs: spec.timeLimitMs, memoryLimitMiB: spec.memoryLimitMiB },
      wasm: copy, name,
    };
    worker.postMessage(request, [copy.buffer]);
  });
}
