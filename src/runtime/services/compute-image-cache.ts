/**
 * A host's persistent cache of guest images (issue #5): a byte-bounded LRU over a ChunkStore (IndexedDB in the
 * browser's SharedWorker, its own database per peer; memory in the Node peer and tests). An image is kept whole
 * under its sha256, which is also its chunk id, so the store itself refuses bytes that do not hash to the id on
 * put; reads are hashed again, because what a store hands back after a reload is not trusted: an entry that does
 * not hash to its name is dropped and reported as a miss (`refused`).
 *
 * The LRU order lives in memory. After a reload it is rebuilt lazily from the store's listing (those entries
 * count as older than anything used since), so a reloaded host still has its images.
 */
import type { PeerId } from '../../core/ids.ts';
import type { ChunkStore } from '../../store/chunk-store.ts';
import { IdbChunkStore } from '../../store/idb-chunk-store.ts';
import { MemoryChunkStore } from '../../store/memory-chunk-store.ts';
import { chunkIdOf as sha256Hex } from '../../store/chunk-id.ts';

/** Default byte budget of the persistent image cache. */
export const DEFAULT_IMAGE_CACHE_BYTES = 256 * 1024 * 1024;

/** IndexedDB where it exists (one database per peer, apart from the storage service's chunks), else memory. */
export function defaultImageCacheStore(self: PeerId): ChunkStore {
  if (typeof indexedDB !== 'undefined') return new IdbChunkStore({ quotaBytes: Infinity, dbName: `nephele-images-${self}` });
  return new MemoryChunkStore({ quotaBytes: Infinity });
}

export class ImageCache {
  /** Access order, oldest first: sha256 → size in bytes. Null until loaded from the store. */
  private order: Map<string, number> | null = null;
  private bytes = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Reads refused because the stored bytes did not hash to their name. */
  refused = 0;

  constructor(
    private readonly store: ChunkStore,
    private readonly maxBytes = DEFAULT_IMAGE_CACHE_BYTES,
    private readonly log: (level: 'info' | 'warn', text: string) => void = () => {},
  ) {}

  /** The image's bytes if cached and they still hash to `sha256`; a corrupt entry is deleted. */
  get(sha256: string): Promise<Uint8Array | undefined> {
    return this.serialised(async () => {
      const order = await this.load();
      if (!order.has(sha256)) return undefined;
      const bytes = await this.store.get(sha256);
      if (bytes === undefined) {
        this.forget(sha256);
        return undefined;
      }
      if ((await sha256Hex(bytes)) !== sha256) {
        this.refused++;
        this.log('warn', `compute: E_IMAGE_MISMATCH: cached image ${sha256.slice(0, 12)} no longer hashes to its name; dropped`);
        await this.store.delete(sha256);
        this.forget(sha256);
        return undefined;
      }
      order.delete(sha256);
      order.set(sha256, bytes.byteLength);
      return bytes;
    });
  }

  /** Keeps a verified image, evicting the least recently used beyond the budget first. False if not kept. */
  put(sha256: string, bytes: Uint8Array): Promise<boolean> {
    return this.serialised(async () => {
      const order = await this.load();
      if (order.has(sha256)) return true;
      if (bytes.byteLength > this.maxBytes) return false;
      for (const [old, size] of order) {
        if (this.bytes + bytes.byteLength <= this.maxBytes) break;
        await this.store.delete(old);
        order.delete(old);
        this.bytes -= size;
      }
      try {
        await this.store.put(sha256, bytes);
      } catch (err) {
        this.log('warn', `compute: image ${sha256.slice(0, 12)} not cached: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
      order.set(sha256, bytes.byteLength);
      this.bytes += bytes.byteLength;
      return true;
    });
  }

  /** Images and bytes held (after the first load; zeros before). */
  stats(): { images: number; bytes: number } {
    return { images: this.order?.size ?? 0, bytes: this.bytes };
  }

  private forget(sha256: string): void {
    const size = this.order?.get(sha256);
    if (size === undefined) return;
    this.order!.delete(sha256);
    this.bytes -= size;
  }

  /** The order, rebuilt from the store on first use: sizes are read once per entry. */
  private async load(): Promise<Map<string, number>> {
    if (this.order) return this.order;
    const order = new Map<string, number>();
    let bytes = 0;
    for (const id of await this.store.list()) {
      const held = await this.store.get(id);
      if (held === undefined) continue;
      order.set(id, held.byteLength);
      bytes += held.byteLength;
    }
    this.order = order;
    this.bytes = bytes;
    return order;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
