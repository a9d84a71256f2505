/**
 * Where a node keeps its chunks: IndexedDB where it exists (the browser's SharedWorker — chunks survive a reload
 * and the node rejoins with the same id), memory elsewhere (the Node peer). One database per peer id. The store is
 * opened without a quota of its own; the service's QuotaChunkStore enforces the lent space. Named objects also
 * keep small records (which version a node holds, the replica index) in a record store of their own.
 */
import type { PeerId } from '../../core/ids.ts';
import type { ChunkStore } from '../../store/chunk-store.ts';
import { IdbChunkStore } from '../../store/idb-chunk-store.ts';
import { MemoryChunkStore } from '../../store/memory-chunk-store.ts';
import { MemoryRecordStore, type RecordStore } from '../../store/record-store.ts';
import { IdbRecordStore } from '../../store/idb-record-store.ts';

export function defaultChunkStore(self: PeerId): ChunkStore {
  if (typeof indexedDB !== 'undefined') return new IdbChunkStore({ quotaBytes: Infinity, dbName: `nephele-chunks-${self}` });
  return new MemoryChunkStore({ quotaBytes: Infinity });
}

/** Where a node keeps its named-object records (held versions, the replica index): beside its chunks. */
export function defaultRecordStore(self: PeerId): RecordStore {
  if (typeof indexedDB !== 'undefined') return new IdbRecordStore(`nephele-records-${self}`);
  return new MemoryRecordStore();
}
