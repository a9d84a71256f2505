/**
 * The one lifecycle of every sandbox worker (WASI and x86, browser Worker and Node worker thread): a worker runs
 * exactly one task; the host gives it a start-up deadline, answers `started` with the task's kill deadline
 * (start-up is not charged to the task), takes the first `result`, and terminates the worker whatever happens —
 * result, time limit, crash, or a cancel by run id (sandbox-cancel.ts) — unless the policy keeps a worker that
 * answered properly for another task of the same job. The policy turns each way of ending
 * into the caller's result type, so a caller never sees a throw.
 */
import { registerSandboxRun } from './sandbox-cancel.ts';

/** What a sandbox worker posts: `started` once, when the guest is about to run, then one `result`. */
export type WorkerReply<R> = { readonly type: 'started' } | { readonly type: 'result'; readonly result: R };

export interface WorkerFailure {
  readonly message: string;
  /** The worker died of its heap limit (Node's ERR_WORKER_OUT_OF_MEMORY). */
  readonly outOfMemory: boolean;
}

/** A started worker, whichever kind it is. */
export interface WorkerChannel<R> {
  onReply(listener: (reply: WorkerReply<R>) => void): void;
  onFailure(listener: (failure: WorkerFailure) => void): void;
  terminate(): void;
}

export interface WorkerTaskPolicy<R> {
  /** How long the worker may take to post `started`. */
  readonly startupTimeoutMs: number;
  /** How long after `started` the worker is killed. */
  readonly killAfterMs: number;
  /** Registers the run so that `cancelSandboxRun(runId)` kills it. */
  readonly runId?: string | undefined;
  /**
   * Called instead of terminating the worker when it answered with a result: the caller keeps the worker for
   * another task of the same job (browser-sandbox.ts). Every other end still terminates it.
   */
  readonly keep?: (() => void) | undefined;
  notStarted(): R;
  timedOut(elapsedMs: number): R;
  failed(failure: WorkerFailure, elapsedMs: number): R;
  cancelled(elapsedMs: number): R;
}

/** Supervises one worker until it ends one way or another; the worker is terminated before this resolves. */
export function superviseWorkerTask<R>(worker: WorkerChannel<R>, policy: WorkerTaskPolicy<R>): Promise<R> {
  return new Promise<R>((resolve) => {
    let startedAt: number | null = null;
    let settled = false;
    const elapsed = (): number => (startedAt === null ? 0 : Math.round(performance.now() - startedAt));
    const unregister = policy.runId === undefined ? () => {} : registerSandboxRun(policy.runId, () => finish(policy.cancelled(elapsed())));
    const finish = (result: R, answered = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unregister();
      if (answered && policy.keep) policy.keep();
      else worker.terminate();
      resolve(result);
    };
    let timer = setTimeout(() => finish(policy.notStarted()), policy.startupTimeoutMs);

    worker.onReply((reply) => {
      if (reply.type === 'started') {
        if (startedAt !== null || settled) return;
        startedAt = performance.now();
        clearTimeout(timer);
        timer = setTimeout(() => finish(policy.timedOut(elapsed())), policy.killAfterMs);
      } else if (startedAt !== null) {
        finish(reply.result, true);
      } else {
        finish(reply.result);
      }
    });
    worker.onFailure((failure) => finish(policy.failed(failure, elapsed())));
  });
}
