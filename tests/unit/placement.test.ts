import { describe, expect, it } from 'vitest';
import { chunkRingKey, localRereplication, placementOnRing, planRereplication, replicaHolders } from '../../src/protocols/storage/placement.ts';
import { SortedRing } from '../../src/protocols/chord/sorted-ring.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
/** A chunk id whose ring key is the position n (the other 96 bits are filler). */
const chunkAt = (n: number): string => id(n) + 'f'.repeat(24);

describe('placement', () => {
  it('a chunk id is 64 hex; its ring key is the first 160 bits', () => {
    expect(chunkRingKey(chunkAt(5))).toBe(id(5));
    expect(() => chunkRingKey('abc')).toThrow(/E_BAD_CHUNK_ID/);
  });

  it('r replicas on the owner and its successors, fewer on a small ring', () => {
    expect(replicaHolders(id(1), [id(2), id(3), id(4)])).toEqual([id(1), id(2), id(3)]);
    expect(replicaHolders(id(1), [id(2)], 3)).toEqual([id(1), id(2)]);
    const ring = new SortedRing([10, 20, 30, 40].map(id));
    expect(placementOnRing(ring, chunkAt(15))).toEqual([id(20), id(30), id(40)]);
    expect(placementOnRing(ring, chunkAt(35), 2)).toEqual([id(40), id(10)]);
    expect(placementOnRing(ring, chunkAt(20))).toEqual([id(20), id(30), id(40)]);
  });

  it('a failure: new set members get copies from survivors, chunks with no survivor are lost', () => {
    const before = new SortedRing([10, 20, 30, 40, 50].map(id));
    const after = new SortedRing([10, 40, 50].map(id)); // 20 and 30 failed
    const plan = planRereplication([chunkAt(15), chunkAt(45)], before, after, 2);
    // chunk 15: was on 20, 30 (both dead) → lost. chunk 45: was on 50, 10 → unchanged.
    expect(plan.lost).toEqual([chunkAt(15)]);
    expect(plan.copies).toEqual([]);
    const plan3 = planRereplication([chunkAt(15)], before, after, 3); // was on 20, 30, 40 → now 40, 50, 10
    expect(plan3.copies).toEqual([
      { chunk: chunkAt(15), from: [id(40)], to: id(50) },
      { chunk: chunkAt(15), from: [id(40)], to: id(10) },
    ]);
    expect(plan3.drops).toEqual([]);
  });

  it('a join: the newcomer gets the chunks it now holds and the node pushed out of the set may drop them', () => {
    const before = new SortedRing([10, 20, 30, 40].map(id));
    const after = new SortedRing([10, 20, 25, 30, 40].map(id));
    const plan = planRereplication([chunkAt(22)], before, after, 3); // 30,40,10 → 25,30,40
    expect(plan.copies).toEqual([{ chunk: chunkAt(22), from: [id(30), id(40), id(10)], to: id(25) }]);
    expect(plan.drops).toEqual([{ chunk: chunkAt(22), holder: id(10) }]);
    expect(plan.lost).toEqual([]);
  });

  it('locally: an owner pushes its own chunks to successors that newly entered the replica set', () => {
    const held = [chunkAt(15), chunkAt(25), chunkAt(5)];
    const before = { self: id(20), predecessor: id(10), successors: [id(30), id(40), id(50)] };
    const now = { self: id(20), predecessor: id(10), successors: [id(40), id(50)] }; // 30 died
    expect(localRereplication(held, before, now)).toEqual([{ chunk: chunkAt(15), to: id(50) }]);
    // Predecessor 10 died: 20 now owns chunk 5 too and sends it to its whole set.
    const orphaned = { self: id(20), predecessor: id(0), successors: [id(40), id(50)] };
    expect(localRereplication(held, now, orphaned)).toEqual([
      { chunk: chunkAt(5), to: id(40) },
      { chunk: chunkAt(5), to: id(50) },
    ]);
    expect(localRereplication(held, now, { ...now, predecessor: undefined })).toEqual([]);
  });
});
