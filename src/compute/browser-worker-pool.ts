/**
 * Idle reusable WASI sandbox workers (wasi-reuse.worker.ts) in a page, parked by reuse key (one job of one
 * submitter) after answering a task, so the next task of that job skips worker start-up and module compilation.
 * A worker is never handed to another key; idle ones are terminated after IDLE_MS, and beyond the caps at once.
 */
const IDLE_MS = 15_000;
const MAX_IDLE_PER_KEY = 4;
const MAX_IDLE = 8;

interface Parked {
  readonly worker: Worker;
  readonly timer: ReturnType<typeof setTimeout>;
}

const parked = new Map<string, Parked[]>();
let count = 0;

/** An idle worker of this key, or null. */
export function takeParkedWorker(key: string): Worker | null {
  const list = parked.get(key);
  const entry = list?.pop();
  if (!entry) return null;
  if (list!.length === 0) parked.delete(key);
  count--;
  clearTimeout(entry.timer);
  return entry.worker;
}

/** Keeps a worker that finished a task of `key` for the next one (or terminates it beyond the caps). */
export function parkWorker(key: string, worker: Worker): void {
  const list = parked.get(key) ?? [];
  if (list.length >= MAX_IDLE_PER_KEY || count >= MAX_IDLE) {
    worker.terminate();
    return;
  }
  worker.onmessage = null;
  worker.onerror = null;
  const entry: Parked = {
    worker,
    timer: setTimeout(() => {
      const at = list.indexOf(entry);
      if (at < 0) return;
      list.splice(at, 1);
      if (list.length === 0) parked.delete(key);
      count--;
      worker.terminate();
    }, IDLE_MS),
  };
  list.push(entry);
  parked.set(key, list);
  count++;
}
