/** A chunk store in memory (Node peers, tests). Same contract as the IndexedDB store; see chunk-store.ts. */
import { NepheleError } from '../core/errors.ts';
import { isChunkId, verifyChunk } from './chunk-id.ts';
import { StoreErrors, type ChunkStore, type ChunkStoreOptions, type ChunkStoreUsage } from './chunk-store.ts';

export class MemoryChunkStore implements ChunkStore {
  private readonly chunks = new Map<string, Uint8Array>();
  private bytes = 0;
  readonly quotaBytes: number;

  constructor(options: ChunkStoreOptions) {
    if (!(options.quotaBytes >= 0)) throw new NepheleError(StoreErrors.BAD_QUOTA, 'quotaBytes must be a number >= 0');
    this.quotaBytes = options.quotaBytes;
  }

  async put(id: string, bytes: Uint8Array): Promise<void> {
    await verifyChunk(id, bytes);
    if (this.chunks.has(id)) return;
    if (this.bytes + bytes.byteLength > this.quotaBytes) {
      throw new NepheleError(StoreErrors.FULL, `${bytes.byteLength} bytes do not fit: ${this.bytes} of ${this.quotaBytes} used`);
    }
    this.chunks.set(id, bytes.slice());
    this.bytes += bytes.byteLength;
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    return this.chunks.get(id)?.slice();
  }

  async has(id: string): Promise<boolean> {
    return isChunkId(id) && this.chunks.has(id);
  }

  async delete(id: string): Promise<boolean> {
    const held = this.chunks.get(id);
    if (!held) return false;
    this.chunks.delete(id);
    this.bytes -= held.byteLength;
    return true;
  }

  async list(): Promise<string[]> {
    return [...this.chunks.keys()].sort();
  }

  async usage(): Promise<ChunkStoreUsage> {
    return { bytes: this.bytes, chunks: this.chunks.size, quotaBytes: this.quotaBytes };
  }
}
