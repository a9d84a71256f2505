/**
 * A chunk store in IndexedDB (the browser's SharedWorker), through idb-keyval with its own database, so chunks
 * never mix with other keyval data. Same contract as the memory store (chunk-store.ts): SHA-256 verified on put
 * (E_CHUNK_HASH_MISMATCH), quota (E_STORE_FULL).
 *
 * Usage is summed from the database once, then kept up to date. `has` counts keys rather than reading values,
 * and a put is one read-write transaction (check, quota, write). Writes are serialised through one promise chain,
 * so two concurrent puts cannot both squeeze under the quota; this assumes one writer per database (the
 * SharedWorker is the only one in a browser context).
 */
import { createStore, del, get, keys, promisifyRequest, values, type UseStore } from 'idb-keyval';
import { NepheleError } from '../core/errors.ts';
import { isChunkId, verifyChunk } from './chunk-id.ts';
import { StoreErrors, type ChunkStore, type ChunkStoreOptions, type ChunkStoreUsage } from './chunk-store.ts';
import { traceMark } from './storage-trace.ts';

export const DEFAULT_CHUNK_DB = 'nephele-chunks';

export interface IdbChunkStoreOptions extends ChunkStoreOptions {
  /** IndexedDB database name (default 'nephele-chunks'). */
  readonly dbName?: string;
}

export class IdbChunkStore implements ChunkStore {
  private readonly db: UseStore;
  readonly quotaBytes: number;
  private totals: { bytes: number; chunks: number } | null = null;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(options: IdbChunkStoreOptions) {
    if (!(options.quotaBytes >= 0)) throw new NepheleError(StoreErrors.BAD_QUOTA, 'quotaBytes must be a number >= 0');
    this.quotaBytes = options.quotaBytes;
    this.db = createStore(options.dbName ?? DEFAULT_CHUNK_DB, 'chunks');
  }

  async put(id: string, bytes: Uint8Array): Promise<void> {
    await verifyChunk(id, bytes);
    traceMark('idb.verified', id);
    const copy = bytes.slice();
    return this.serialised(async () => {
      traceMark('idb.tx0', id);
      const totals = await this.loadTotals();
      // One read-write transaction: is it held, does it fit, store it. A promise that settles in a request's
      // success callback resumes while the transaction is still active, so the put joins the same transaction.
      const stored = await this.db('readwrite', async (store) => {
        if ((await promisifyRequest(store.count(id))) > 0) return false;
        if (totals.bytes + copy.byteLength > this.quotaBytes) {
          throw new NepheleError(StoreErrors.FULL, `${copy.byteLength} bytes do not fit: ${totals.bytes} of ${this.quotaBytes} used`);
        }
        store.put(copy, id);
        await promisifyRequest(store.transaction);
        traceMark('idb.tx1', id, (store.transaction as { durability?: string }).durability ?? '?');
        return true;
      });
      if (!stored) return;
      totals.bytes += copy.byteLength;
      totals.chunks++;
    });
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    if (!isChunkId(id)) return undefined;
    const value: unknown = await get(id, this.db);
    return value instanceof Uint8Array ? value : undefined;
  }

  async has(id: string): Promise<boolean> {
    return isChunkId(id) && this.held(id);
  }

  /** Whether a chunk is stored, by counting its key: reading the value would load its megabyte from disk. */
  private async held(id: string): Promise<boolean> {
    return (await this.db('readonly', (store) => promisifyRequest(store.count(id)))) > 0;
  }

  async delete(id: string): Promise<boolean> {
    if (!isChunkId(id)) return false;
    return this.serialised(async () => {
      const held: unknown = await get(id, this.db);
      if (!(held instanceof Uint8Array)) return false;
      const totals = await this.loadTotals();
      await del(id, this.db);
      totals.bytes -= held.byteLength;
      totals.chunks--;
      return true;
    });
  }

  async list(): Promise<string[]> {
    return (await keys<string>(this.db)).filter(isChunkId).sort();
  }

  async usage(): Promise<ChunkStoreUsage> {
    const totals = await this.serialised(() => this.loadTotals());
    return { bytes: totals.bytes, chunks: totals.chunks, quotaBytes: this.quotaBytes };
  }

  private async loadTotals(): Promise<{ bytes: number; chunks: number }> {
    if (this.totals) return this.totals;
    let bytes = 0, chunks = 0;
    for (const v of await values<unknown>(this.db)) {
      if (!(v instanceof Uint8Array)) continue;
      bytes += v.byteLength;
      chunks++;
    }
    this.totals = { bytes, chunks };
    return this.totals;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => undefined);
    return run;
  }
}
