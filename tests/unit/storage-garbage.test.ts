/**
 * Space is returned after the ring moves (storage-garbage.ts, the sweep of storage-replication.ts): a copy whose
 * replica set this node has left is deleted once the whole set holds the chunk, after a grace period; a copy that
 * the set lacks is handed to the owner first, never simply dropped. Pure bookkeeping first, then real NodeCores
 * with the storage service on the in-memory network.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import { StrayCopies } from '../../src/runtime/services/storage-garbage.ts';
import { placementOnRing } from '../../src/protocols/storage/placement.ts';
import { SortedRing } from '../../src/protocols/chord/sorted-ring.ts';
import { sha256Hex } from '../../src/runtime/services/storage-crypto.ts';
import { chunkIdOf } from '../../src/store/chunk-id.ts';
import { oneRing, stopNetworks, storageCloud, storageCmd, storageOf, waitFor, type StorageCloud } from './support/core-network.ts';
import { fileBytes } from './support/test-data.ts';

afterEach(stopNetworks);

const C = 'c'.repeat(64);

describe('stray copy bookkeeping', () => {
  it('deletes only after the chunk was seen on the whole replica set for the grace period, on every check', () => {
    const strays = new StrayCopies(3, 1000);
    const full = { holder: false, confirmedElsewhere: 3 };
    expect(strays.observe(C, full, 0)).toBe('keep');
    expect(strays.observe(C, full, 999)).toBe('keep');
    expect(strays.observe(C, full, 1000)).toBe('delete');
    expect(strays.pending).toBe(0);
  });

  it('starts the grace period over when a check falls short, and never deletes a replica holder\'s copy', () => {
    const strays = new StrayCopies(3, 1000);
    expect(strays.observe(C, { holder: false, confirmedElsewhere: 3 }, 0)).toBe('keep');
    expect(strays.observe(C, { holder: false, confirmedElsewhere: 2 }, 500)).toBe('keep');
    expect(strays.observe(C, { holder: false, confirmedElsewhere: 3 }, 1200)).toBe('keep');
    expect(strays.observe(C, { holder: false, confirmedElsewhere: 3 }, 2100)).toBe('keep');
    expect(strays.observe(C, { holder: false, confirmedElsewhere: 3 }, 2200)).toBe('delete');
    const holder = new StrayCopies(3, 0);
    for (const t of [0, 10, 10_000]) expect(holder.observe(C, { holder: true, confirmedElsewhere: 3 }, t)).toBe('keep');
  });

  it('forgets chunks that are no longer held', () => {
    const strays = new StrayCopies(3, 1000);
    strays.observe(C, { holder: false, confirmedElsewhere: 3 }, 0);
    strays.retain(new Set());
    expect(strays.pending).toBe(0);
    expect(strays.observe(C, { holder: false, confirmedElsewhere: 3 }, 5000)).toBe('keep');
  });
});

/** Which live peers hold each chunk held anywhere. */
async function copies(c: StorageCloud): Promise<Map<string, PeerId[]>> {
  const out = new Map<string, PeerId[]>();
  for (const id of c.ids) {
    if (!c.net.nodes.has(id)) continue;
    for (const chunk of await c.stores.get(id)!.list()) out.set(chunk, [...(out.get(chunk) ?? []), id]);
  }
  return out;
}

/** Every chunk sits exactly on its replica set on the current ring (no stray copy, none missing). */
async function exactlyPlaced(c: StorageCloud): Promise<boolean> {
  const ring = new SortedRing(c.ids.filter((id) => c.net.nodes.has(id)));
  for (const [chunk, holders] of await copies(c)) {
    if ([...holders].sort().join() !== placementOnRing(ring, chunk, 3).sort().join()) return false;
  }
  return true;
}

async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  let ok = false;
  const poll = async (): Promise<void> => {
    ok = await check();
  };
  await poll();
  const deadline = Date.now() + ms;
  while (!ok) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
    await poll();
  }
}

describe('stray copies on a changing ring', () => {
  it('after new peers join, every chunk ends on exactly its r = 3 replica holders and the file still reads back', async () => {
    const c = await storageCloud(5, { service: { fullPassTicks: 5, strayGraceMs: 600 } });
    const bytes = fileBytes(3 * 1024 * 1024 + 77, 11);
    const { link } = (await storageCmd(c.net, c.ids[0]!, 'put', { name: 'moving.bin', bytes })) as { link: string };
    const chunks = (await copies(c)).size;
    expect(chunks).toBe(5);
    expect([...(await copies(c)).values()].every((h) => h.length === 3)).toBe(true);

    const first = [...c.ids];
    for (let i = 0; i < 4; i++) await c.join(first.slice(i, i + 2));
    await waitFor(() => oneRing(c.net, c.ids), 20_000, 'one ring of 9');
    await eventually(() => exactlyPlaced(c), 30_000, 'every chunk exactly on its replica set');
    const total = [...(await copies(c)).values()].reduce((s, h) => s + h.length, 0);
    expect(total).toBe(3 * chunks);
    const deleted = c.ids.reduce((s, id) => s + (storageOf(c.net, id).straysDeleted ?? 0), 0);
    expect(deleted).toBeGreaterThan(0);
    const got = (await storageCmd(c.net, c.ids[8]!, 'get', { link })) as { bytes: Uint8Array };
    expect(await sha256Hex(got.bytes)).toBe(await sha256Hex(bytes));
  });

  it('a stray copy that its replica set lacks is copied to the owner first, then deleted', async () => {
    const c = await storageCloud(6, { service: { fullPassTicks: 5, strayGraceMs: 600 } });
    const ring = new SortedRing(c.ids);
    // A chunk placed on a peer outside its replica set, held nowhere else.
    let bytes: Uint8Array = new Uint8Array(0);
    let chunk = '';
    let stray: PeerId | undefined;
    for (let seed = 1; stray === undefined; seed++) {
      bytes = fileBytes(5000, seed);
      chunk = await chunkIdOf(bytes);
      const set = placementOnRing(ring, chunk, 3);
      stray = c.ids.find((id) => !set.includes(id));
    }
    await c.stores.get(stray)!.put(chunk, bytes);
    await eventually(async () => {
      const holders = (await copies(c)).get(chunk) ?? [];
      return holders.sort().join() === placementOnRing(ring, chunk, 3).sort().join();
    }, 20_000, 'the chunk on its replica set and gone from the stray');
    expect(await c.stores.get(stray)!.has(chunk)).toBe(false);
  });
});
