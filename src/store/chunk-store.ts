/**
 * The chunk store contract: a peer's local, quota-bounded store of content-addressed chunks (SHA-256 ids, see
 * chunk-id.ts). Implementations: memory (tests, Node peers) and IndexedDB (the browser's SharedWorker); both pass
 * tests/conformance/chunk-store-suite.ts.
 *
 * Contract: `put` refuses bytes that do not hash to the id (E_CHUNK_HASH_MISMATCH), malformed ids
 * (E_BAD_CHUNK_ID) and chunks that would push usage past the quota (E_STORE_FULL), storing nothing in each case;
 * putting a chunk already held is a no-op. `get` returns a copy (or undefined). `delete` says whether it removed
 * something. `list` is sorted.
 */
export interface ChunkStoreUsage {
  readonly bytes: number;
  readonly chunks: number;
  readonly quotaBytes: number;
}

export interface ChunkStore {
  put(id: string, bytes: Uint8Array): Promise<void>;
  get(id: string): Promise<Uint8Array | undefined>;
  has(id: string): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  list(): Promise<string[]>;
  usage(): Promise<ChunkStoreUsage>;
}

export interface ChunkStoreOptions {
  /** Bytes this peer lends for storage. */
  readonly quotaBytes: number;
}

export const StoreErrors = {
  FULL: 'E_STORE_FULL',
  HASH_MISMATCH: 'E_CHUNK_HASH_MISMATCH',
  BAD_CHUNK_ID: 'E_BAD_CHUNK_ID',
  BAD_QUOTA: 'E_STORE_BAD_QUOTA',
} as const;
