/**
 * A browser dedicated module Worker read as a WorkerChannel (worker-task-host.ts): replies from `onmessage`,
 * failures from `onerror` (kept from the page's console) and `onmessageerror`.
 */
import type { WorkerChannel, WorkerReply } from './worker-task-host.ts';

export function browserWorkerChannel<R>(worker: Worker, label: string): WorkerChannel<R> {
  return {
    onReply: (listener) => { worker.onmessage = (event: MessageEvent<WorkerReply<R>>) => listener(event.data); },
    onFailure: (listener) => {
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        listener({ message: `${label} failed: ${event.message || 'error while loading or running'}`, outOfMemory: false });
      };
      worker.onmessageerror = () => listener({ message: `${label} sent a message that could not be read`, outOfMemory: false });
    },
    terminate: () => worker.terminate(),
  };
}
