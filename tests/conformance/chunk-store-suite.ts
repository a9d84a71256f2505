/**
 * The conformance suite every ChunkStore passes (memory in Node, IndexedDB in a real browser). Plain async
 * functions that throw on failure, with no test framework inside, so the same cases run under vitest and inside
 * a page: `for (const c of chunkStoreConformance('memory', make)) it(c.name, c.run)`.
 * `makeStore` must return a fresh, empty store for every case.
 */
import type { ChunkStore } from '../../src/store/chunk-store.ts';
import { chunkIdOf } from '../../src/store/chunk-id.ts';

export interface ConformanceCase {
  readonly name: string;
  readonly run: () => Promise<void>;
}

export type MakeChunkStore = (options: { quotaBytes: number }) => Promise<ChunkStore> | ChunkStore;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`chunk store conformance: ${message}`);
}

async function rejectsWith(work: Promise<unknown>, code: string): Promise<void> {
  try {
    await work;
  } catch (e) {
    const got = (e as { code?: unknown }).code;
    check(got === code, `expected ${code}, got ${String(got)} (${String(e)})`);
    return;
  }
  throw new Error(`chunk store conformance: expected ${code}, but it succeeded`);
}

function bytesOf(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < b.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function chunk(seed: number, length: number): Promise<{ id: string; bytes: Uint8Array }> {
  const bytes = bytesOf(seed, length);
  return { id: await chunkIdOf(bytes), bytes };
}

export function chunkStoreConformance(name: string, makeStore: MakeChunkStore): ConformanceCase[] {
  const big = { quotaBytes: 1 << 24 };
  const cases: [string, () => Promise<void>][] = [
    ['stores a chunk and gives back the same bytes', async () => {
      const store = await makeStore(big);
      const c = await chunk(1, 5000);
      await store.put(c.id, c.bytes);
      check(sameBytes(await store.get(c.id), c.bytes), 'get returned other bytes');
      check(await store.has(c.id), 'has is false after put');
      check((await store.list()).join() === c.id, 'list does not hold exactly the chunk');
    }],
    ['an empty chunk is a chunk too', async () => {
      const store = await makeStore(big);
      const c = await chunk(2, 0);
      await store.put(c.id, c.bytes);
      const back = await store.get(c.id);
      check(back !== undefined && back.byteLength === 0, 'empty chunk not returned');
    }],
    ['a missing chunk is absent, and deleting it removes nothing', async () => {
      const store = await makeStore(big);
      const c = await chunk(3, 10);
      check((await store.get(c.id)) === undefined, 'get of a missing chunk is not undefined');
      check(!(await store.has(c.id)), 'has of a missing chunk is true');
      check(!(await store.delete(c.id)), 'delete of a missing chunk said true');
      check((await store.list()).length === 0, 'a fresh store lists chunks');
    }],
    ['refuses bytes that do not hash to the id (E_CHUNK_HASH_MISMATCH) and keeps nothing', async () => {
      const store = await makeStore(big);
      const c = await chunk(4, 100);
      const tampered = c.bytes.slice();
      tampered[7] = (tampered[7]! + 1) & 0xff;
      await rejectsWith(store.put(c.id, tampered), 'E_CHUNK_HASH_MISMATCH');
      check(!(await store.has(c.id)), 'a refused chunk was stored');
      check((await store.usage()).bytes === 0, 'a refused chunk was counted');
    }],
    ['refuses a malformed id (E_BAD_CHUNK_ID)', async () => {
      const store = await makeStore(big);
      const c = await chunk(5, 10);
      await rejectsWith(store.put(c.id.toUpperCase(), c.bytes), 'E_BAD_CHUNK_ID');
      await rejectsWith(store.put(c.id.slice(0, 40), c.bytes), 'E_BAD_CHUNK_ID');
    }],
    ['refuses a chunk past the quota (E_STORE_FULL), and deleting makes room', async () => {
      const store = await makeStore({ quotaBytes: 1000 });
      const a = await chunk(6, 600), b = await chunk(7, 600), small = await chunk(8, 400);
      await store.put(a.id, a.bytes);
      await rejectsWith(store.put(b.id, b.bytes), 'E_STORE_FULL');
      check(!(await store.has(b.id)), 'a chunk over quota was stored');
      await store.put(small.id, small.bytes); // exactly at the quota
      const full = await store.usage();
      check(full.bytes === 1000 && full.chunks === 2 && full.quotaBytes === 1000, `usage wrong: ${JSON.stringify(full)}`);
      check(await store.delete(a.id), 'delete said false');
      await store.put(b.id, b.bytes);
      check(sameBytes(await store.get(b.id), b.bytes), 'chunk put after freeing room is wrong');
    }],
    ['putting a chunk already held changes nothing', async () => {
      const store = await makeStore({ quotaBytes: 500 });
      const c = await chunk(9, 400);
      await store.put(c.id, c.bytes);
      await store.put(c.id, c.bytes); // would not fit twice
      const u = await store.usage();
      check(u.bytes === 400 && u.chunks === 1, `a repeated put was counted: ${JSON.stringify(u)}`);
    }],
    ['changing returned or given bytes does not change the stored chunk', async () => {
      const store = await makeStore(big);
      const c = await chunk(10, 64);
      const given = c.bytes.slice();
      await store.put(c.id, given);
      given[0] = (given[0]! + 1) & 0xff;
      const first = await store.get(c.id);
      check(sameBytes(first, c.bytes), 'the store kept a reference to the caller\'s bytes');
      first![1] = (first![1]! + 1) & 0xff;
      check(sameBytes(await store.get(c.id), c.bytes), 'get handed out the stored bytes themselves');
    }],
    ['lists, counts and deletes many chunks exactly', async () => {
      const store = await makeStore(big);
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => chunk(100 + i, 50 + i)));
      for (const c of all) await store.put(c.id, c.bytes);
      for (const c of all.slice(0, 5)) check(await store.delete(c.id), 'delete said false');
      const kept = all.slice(5);
      const listed = await store.list();
      check(listed.join() === kept.map((c) => c.id).sort().join(), 'list is not the sorted set of kept chunks');
      const u = await store.usage();
      const bytes = kept.reduce((s, c) => s + c.bytes.byteLength, 0);
      check(u.chunks === 15 && u.bytes === bytes, `usage wrong: ${JSON.stringify(u)}, expected ${bytes} bytes`);
    }],
    ['concurrent puts never exceed the quota', async () => {
      const store = await makeStore({ quotaBytes: 1000 });
      const all = await Promise.all(Array.from({ length: 8 }, (_, i) => chunk(200 + i, 300)));
      const outcomes = await Promise.allSettled(all.map((c) => store.put(c.id, c.bytes)));
      const stored = outcomes.filter((o) => o.status === 'fulfilled').length;
      check(stored === 3, `${stored} puts of 300 bytes succeeded under a 1000-byte quota`);
      for (const o of outcomes) if (o.status === 'rejected') check((o.reason as { code?: string }).code === 'E_STORE_FULL', 'a refusal was not E_STORE_FULL');
      check((await store.usage()).bytes === 900, 'usage is not 900 bytes');
    }],
  ];
  return cases.map(([caseName, run]) => ({ name: `${name}: ${caseName}`, run }));
}
