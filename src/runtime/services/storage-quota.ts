/**
 * The space this peer lends, adjustable at run time (command `setQuota`): a ChunkStore wrapper that refuses a put
 * that would push usage past the current quota with E_STORE_FULL. The wrapped store is opened with no quota of
 * its own. Puts are serialised so two concurrent ones cannot both squeeze under the limit.
 */
import { NepheleError } from '../../core/errors.ts';
import { StoreErrors, type ChunkStore, type ChunkStoreUsage } from '../../store/chunk-store.ts';
import { traceMark } from '../../store/storage-trace.ts';

export const DEFAULT_QUOTA_BYTES = 1024 ** 3;

export class QuotaChunkStore implements ChunkStore {
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly inner: ChunkStore, private quota: number = DEFAULT_QUOTA_BYTES) {}

  get quotaBytes(): number {
    return this.quota;
  }

  setQuota(bytes: number): void {
    if (!Number.isFinite(bytes) || bytes < 0) throw new NepheleError(StoreErrors.BAD_QUOTA, 'quota must be a number of bytes >= 0');
    this.quota = Math.floor(bytes);
  }

  put(id: string, bytes: Uint8Array): Promise<void> {
    traceMark('q.queued', id);
    const run = this.writes.then(async () => {
      traceMark('q.slot', id);
      const used = (await this.inner.usage()).bytes;
      // Putting a chunk already held is a no-op in the inner store, so only a put that would not fit asks whether
      // the chunk is held (a store round trip per put saved): re-putting a held chunk succeeds even on a full peer.
      if (used + bytes.byteLength > this.quota && !(await this.inner.has(id))) {
        throw new NepheleError(StoreErrors.FULL, `${bytes.byteLength} bytes do not fit: ${used} of ${this.quota} lent bytes used`);
      }
      await this.inner.put(id, bytes);
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  get(id: string): Promise<Uint8Array | undefined> {
    return this.inner.get(id);
  }

  has(id: string): Promise<boolean> {
    return this.inner.has(id);
  }

  delete(id: string): Promise<boolean> {
    return this.inner.delete(id);
  }

  list(): Promise<string[]> {
    return this.inner.list();
  }

  async usage(): Promise<ChunkStoreUsage> {
    const u = await this.inner.usage();
    return { bytes: u.bytes, chunks: u.chunks, quotaBytes: this.quota };
  }
}
