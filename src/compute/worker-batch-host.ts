/**
 * A batch of one job's tasks through ONE reusable sandbox worker with every request posted up front: the worker
 * queues them and runs them one after another (wasi-reuse.worker.ts), so it goes from one task to the next
 * without waiting for the page to hear the last result and post the next request (a round trip through a page
 * main thread that is often busy rendering). The page still supervises each task on its own, in order, with the
 * one lifecycle of worker-task-host.ts: its kill timer starts at its `started`, it can be cancelled by run id,
 * and its worker is terminated when it passes its time limit, is cancelled or fails. A task that ends its worker
 * that way takes the requests queued behind it along: they are posted again, to a fresh worker.
 */
import { superviseWorkerTask, type WorkerChannel, type WorkerTaskPolicy } from './worker-task-host.ts';

/** A started worker serving one batch. */
export interface BatchWorker<R> {
  readonly channel: WorkerChannel<R>;
  /** Posts the requests of these tasks (indices into the batch), in order. */
  send(indices: readonly number[]): void;
  /** Keeps the worker for later tasks of the same job (it answered the batch's last task properly). */
  park(): void;
}

/**
 * Runs tasks 0…count−1 in order; `open` starts (or takes a parked) worker, or answers null when none can start
 * (that task then fails with `notOpened`, and the next one tries again). Results come back in order.
 */
export async function runBatchInOneWorker<R>(
  count: number,
  open: () => BatchWorker<R> | null,
  policy: (index: number) => WorkerTaskPolicy<R>,
  notOpened: (index: number) => R,
): Promise<R[]> {
  const results: R[] = [];
  let worker: BatchWorker<R> | null = null;
  for (let i = 0; i < count; i++) {
    if (worker === null) {
      worker = open();
      if (worker === null) {
        results.push(notOpened(i));
        continue;
      }
      worker.send(Array.from({ length: count - i }, (_, k) => i + k));
    }
    const current: BatchWorker<R> = worker;
    const last = i === count - 1;
    let kept = false;
    // superviseWorkerTask settles from the worker's message handler; the next task's supervision is set up in
    // the microtasks after it, before the worker's next message (its `started`) is delivered.
    results.push(await superviseWorkerTask(current.channel, {
      ...policy(i),
      keep: () => {
        kept = true;
        if (last) current.park();
      },
    }));
    if (!kept) worker = null;
  }
  return results;
}
