import { describe, expect, it } from 'vitest';
import { add, distance, fingerStart, hexOf, inHalfOpen, inOpen, positionOf, RING_SIZE, ringNode } from '../../src/protocols/chord/ring.ts';
import { FingerTable } from '../../src/protocols/chord/finger-table.ts';
import { SuccessorList } from '../../src/protocols/chord/successor-list.ts';
import { SortedRing } from '../../src/protocols/chord/sorted-ring.ts';

const id = (n: bigint): string => hexOf(n);
const node = (n: bigint) => ringNode(id(n));

describe('ring arithmetic on 160-bit ids', () => {
  it('reads and writes 40-hex positions and refuses anything else', () => {
    expect(positionOf('0'.repeat(39) + 'a')).toBe(10n);
    expect(positionOf('f'.repeat(40))).toBe(RING_SIZE - 1n);
    expect(hexOf(RING_SIZE + 5n)).toBe('0'.repeat(39) + '5');
    expect(hexOf(-1n)).toBe('f'.repeat(40));
    expect(() => positionOf('F'.repeat(40))).toThrow(/E_CHORD_BAD_ID/);
    expect(() => positionOf('0'.repeat(41))).toThrow(/E_CHORD_BAD_ID/);
  });

  it('adds and measures clockwise distance modulo 2^160', () => {
    expect(add(RING_SIZE - 1n, 2n)).toBe(1n);
    expect(distance(10n, 15n)).toBe(5n);
    expect(distance(15n, 10n)).toBe(RING_SIZE - 5n);
    expect(distance(7n, 7n)).toBe(0n);
    expect(fingerStart(RING_SIZE - 1n, 0)).toBe(0n);
    expect(fingerStart(0n, 159)).toBe(RING_SIZE / 2n);
  });

  it('open and half-open intervals wrap around zero', () => {
    const top = RING_SIZE - 10n;
    expect(inOpen(5n, top, 20n)).toBe(true);
    expect(inOpen(RING_SIZE - 1n, top, 20n)).toBe(true);
    expect(inOpen(20n, top, 20n)).toBe(false);
    expect(inOpen(top, top, 20n)).toBe(false);
    expect(inOpen(30n, top, 20n)).toBe(false);
    expect(inHalfOpen(20n, top, 20n)).toBe(true);
    expect(inHalfOpen(top, top, 20n)).toBe(false);
    expect(inHalfOpen(15n, 10n, 20n)).toBe(true);
    expect(inHalfOpen(25n, 10n, 20n)).toBe(false);
  });

  it('an interval with equal ends is the whole ring (a node alone owns every key)', () => {
    expect(inHalfOpen(3n, 9n, 9n)).toBe(true);
    expect(inHalfOpen(9n, 9n, 9n)).toBe(true);
    expect(inOpen(3n, 9n, 9n)).toBe(true);
    expect(inOpen(9n, 9n, 9n)).toBe(false);
  });
});

describe('finger table', () => {
  const self = node(1000n);

  it('fills a finger and every later finger whose start still precedes the node found', () => {
    const t = new FingerTable(self);
    const succ = node(1000n + 100n); // covers starts 1001, 1002, 1004, ..., 1064 (i = 0..6)
    expect(t.fill(0, succ)).toBe(7);
    for (let i = 0; i < 7; i++) expect(t.idAt(i)).toBe(succ.id);
    expect(t.idAt(7)).toBeUndefined();
    const far = node(1000n + (1n << 100n));
    expect(t.fill(7, far)).toBe(101);
    expect(t.idAt(100)).toBe(far.id);
    expect(t.idAt(101)).toBeUndefined();
    expect(t.distinct().map((n) => n.id)).toEqual([succ.id, far.id]);
  });

  it('closest preceding finger is the farthest finger strictly before the key', () => {
    const t = new FingerTable(self);
    const a = node(1100n), b = node(1000n + (1n << 20n)), c = node(1000n + (1n << 100n));
    t.fill(0, a);
    t.fill(20, b);
    t.fill(100, c);
    expect(t.closestPreceding(1000n + (1n << 50n))?.id).toBe(b.id);
    expect(t.closestPreceding(1000n + (1n << 20n))?.id).toBe(a.id); // b is the key itself: not strictly before
    expect(t.closestPreceding(1050n)).toBeUndefined();
    expect(t.closestPreceding(999n)?.id).toBe(c.id); // just behind self: everything precedes it
    t.remove(c.id);
    expect(t.closestPreceding(999n)?.id).toBe(b.id);
    expect(t.idAt(100)).toBeUndefined();
  });

  it('never holds self', () => {
    const t = new FingerTable(self);
    expect(t.fill(3, self)).toBe(4);
    expect(t.idAt(3)).toBeUndefined();
  });
});

describe('successor list', () => {
  const self = node(50n);

  it('takes the successor and its list, cut where it wraps to self, deduplicated, at most r', () => {
    const l = new SuccessorList(self, 3);
    l.reconcile(node(60n), [node(70n), node(60n), node(80n), node(90n)]);
    expect(l.ids()).toEqual([id(60n), id(70n), id(80n)]);
    l.reconcile(node(60n), [node(70n), self, node(90n)]);
    expect(l.ids()).toEqual([id(60n), id(70n)]);
  });

  it('prepends a closer successor, inserts by clockwise order, removes and finds the closest preceding', () => {
    const l = new SuccessorList(self, 4);
    l.reconcile(node(60n), [node(70n), node(80n)]);
    l.prepend(node(55n));
    expect(l.ids()).toEqual([id(55n), id(60n), id(70n), id(80n)]);
    l.remove(id(60n));
    l.insert(node(65n));
    expect(l.ids()).toEqual([id(55n), id(65n), id(70n), id(80n)]);
    expect(l.closestPreceding(75n)?.id).toBe(id(70n));
    expect(l.closestPreceding(52n)).toBeUndefined();
  });
});

describe('sorted ring oracle', () => {
  it('finds the owner of a key and the r nodes after it, wrapping', () => {
    const ring = new SortedRing([id(10n), id(30n), id(20n)]);
    expect(ring.successorOf(15n)).toBe(id(20n));
    expect(ring.successorOf(20n)).toBe(id(20n));
    expect(ring.successorOf(31n)).toBe(id(10n));
    expect(ring.successorsOf(25n, 3)).toEqual([id(30n), id(10n), id(20n)]);
    expect(ring.successorsOf(25n, 5)).toHaveLength(3);
    expect(ring.next(id(30n))).toBe(id(10n));
  });
});
