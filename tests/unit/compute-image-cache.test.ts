/**
 * The host's persistent image cache (compute-image-cache.ts) over a real memory chunk store: a byte-bounded LRU
 * that survives a restart (a new cache over the same store), refuses bytes that no longer hash to their name,
 * and the fetcher's order cache → submitter with it.
 */
import { describe, expect, it } from 'vitest';
import { ImageCache } from '../../src/runtime/services/compute-image-cache.ts';
import { ImageFetcher, ImageStore, sha256Hex } from '../../src/runtime/services/compute-images.ts';
import { MemoryChunkStore } from '../../src/store/memory-chunk-store.ts';

const bytesOf = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

/** A chunk store whose reads come back altered (a corrupted disk or a tampered database). */
class RottingStore extends MemoryChunkStore {
  rot = false;
  override async get(id: string): Promise<Uint8Array | undefined> {
    const bytes = await super.get(id);
    if (bytes && this.rot) bytes[0] = bytes[0]! ^ 0xff;
    return bytes;
  }
}

describe('persistent image cache', () => {
  it('keeps images across a restart over the same store and verifies them on read', async () => {
    const store = new MemoryChunkStore({ quotaBytes: Infinity });
    const image = bytesOf(1000, 7);
    const sha = await sha256Hex(image);
    expect(await new ImageCache(store).put(sha, image)).toBe(true);
    const reloaded = new ImageCache(store);
    expect(await reloaded.get(sha)).toEqual(image);
    expect(reloaded.stats()).toEqual({ images: 1, bytes: 1000 });
  });

  it('refuses to store bytes under a name they do not hash to', async () => {
    const cache = new ImageCache(new MemoryChunkStore({ quotaBytes: Infinity }));
    expect(await cache.put('0'.repeat(64), bytesOf(10, 1))).toBe(false);
    expect(await cache.get('0'.repeat(64))).toBeUndefined();
  });

  it('drops an entry whose stored bytes no longer hash to its name', async () => {
    const store = new RottingStore({ quotaBytes: Infinity });
    const image = bytesOf(64, 3);
    const sha = await sha256Hex(image);
    const cache = new ImageCache(store);
    await cache.put(sha, image);
    store.rot = true;
    expect(await cache.get(sha)).toBeUndefined();
    expect(cache.refused).toBe(1);
    expect(await store.has(sha)).toBe(false);
  });

  it('evicts the least recently used images beyond its byte budget, also after a reload', async () => {
    const store = new MemoryChunkStore({ quotaBytes: Infinity });
    const images = [bytesOf(400, 1), bytesOf(400, 2), bytesOf(400, 3)];
    const [a, b, c] = await Promise.all(images.map(sha256Hex));
    const cache = new ImageCache(store, 1000);
    await cache.put(a!, images[0]!);
    await cache.put(b!, images[1]!);
    await cache.get(a!); // a is now the most recent: b goes first
    await cache.put(c!, images[2]!);
    expect(await store.list()).toEqual([a!, c!].sort());
    // A reloaded cache rebuilds its order from the store and still keeps to the budget.
    const reloaded = new ImageCache(store, 1000);
    const d = bytesOf(400, 4);
    await reloaded.put(await sha256Hex(d), d);
    expect((await store.usage()).bytes).toBeLessThanOrEqual(1000);
    expect(await store.has(await sha256Hex(d))).toBe(true);
    expect(await cache.put('f'.repeat(64), bytesOf(2000, 5))).toBe(false);
  });

  it('a fetcher answers from the cache before asking the submitter, and asks when the cache lies', async () => {
    const store = new RottingStore({ quotaBytes: Infinity });
    const image = bytesOf(300, 9);
    const sha = await sha256Hex(image);
    await new ImageCache(store).put(sha, image);
    const asked: string[] = [];
    const deps = { now: () => 0, connect: () => undefined, log: () => undefined, sendFrame: (to: string) => (asked.push(to), true) };

    const fetcher = new ImageFetcher(new ImageStore(), deps, { cache: new ImageCache(store) });
    expect(await fetcher.get({ sha256: sha, size: 300 }, 'a'.repeat(40))).toEqual(image);
    expect(fetcher.from).toEqual({ cache: 1, dht: 0, submitter: 0 });
    expect(asked).toEqual([]);

    store.rot = true;
    const refusing = new ImageFetcher(new ImageStore(), deps, { cache: new ImageCache(store) });
    void refusing.get({ sha256: sha, size: 300 }, 'b'.repeat(40)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    expect(refusing.from.cache).toBe(0);
    expect(asked).toEqual(['b'.repeat(40)]);
  });
});
