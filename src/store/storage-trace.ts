/**
 * Per-chunk timestamps along the storage put/get path (seal, lookup, frames sent and received, queue waits,
 * IndexedDB transactions, verification, decryption), for the storage trace bench (bench/storage-trace.ts). Off
 * unless that bench sets `globalThis.__nepheleStorageTrace` to an array in a node's SharedWorker (through CDP):
 * normally a mark costs one property read. Times are epoch milliseconds (`performance.timeOrigin + now()`), so
 * the marks of different workers on one machine line up.
 */

/** One mark: [epoch ms, what happened, chunk id (first 12 hex), peer or detail]. */
export type TraceMark = [number, string, string, string];

export function traceOn(): boolean {
  return Array.isArray((globalThis as { __nepheleStorageTrace?: unknown }).__nepheleStorageTrace);
}

export function traceMark(what: string, chunk: string, detail = ''): void {
  const sink = (globalThis as { __nepheleStorageTrace?: unknown }).__nepheleStorageTrace;
  if (!Array.isArray(sink)) return;
  (sink as TraceMark[]).push([performance.timeOrigin + performance.now(), what, chunk.slice(0, 12), detail]);
}
