/**
 * Defence in depth for a sandbox worker: before a guest runs, shadow every global that reaches the network,
 * persistent storage or other contexts with `undefined` (non-writable, non-configurable), so that even a bug in
 * the WASI shim could not hand the guest a way out. The WASI guest's only imports are wasi_snapshot_preview1
 * functions, none of which touch these.
 */
export const BLOCKED_GLOBALS = [
  'fetch', 'XMLHttpRequest', 'WebSocket', 'WebSocketStream', 'EventSource', 'WebTransport', 'RTCPeerConnection',
  'indexedDB', 'caches', 'importScripts', 'Worker', 'SharedWorker', 'BroadcastChannel', 'MessageChannel',
  'Request', 'Response', 'navigator', 'localStorage', 'sessionStorage', 'open', 'close',
] as const;

/** Returns the names that could not be blocked (expected to be empty in a worker). */
export function lockDownGlobals(scope: object = globalThis): string[] {
  const failed: string[] = [];
  for (const name of BLOCKED_GLOBALS) {
    try {
      Object.defineProperty(scope, name, { value: undefined, writable: false, configurable: false, enumerable: false });
    } catch {
      failed.push(name);
    }
  }
  return failed;
}
