/**
 * Chord's finger table (Stoica et al. 2003, §4.3): finger i of node n is the first node that succeeds
 * n + 2^i on the ring, for 0 <= i < 160. In a ring of N nodes only about log2 N entries are distinct: all the low
 * fingers point at the successor. So `fill` sets a finger and every following finger whose start still falls
 * before the node found, and fix_fingers looks up only the distinct ones.
 *
 * Invariants: never holds self; finger i, when set, lies in [start(i), ...) as far as its setter knew.
 * Consecutive equal fingers share one RingNode object, so a table costs 160 slots, not 160 nodes.
 */
import type { PeerId } from '../../core/ids.ts';
import { distance, fingerStart, inHalfOpen, RING_BITS, type RingNode } from './ring.ts';

interface Distinct {
  readonly node: RingNode;
  /** Clockwise distance from self, so routing compares numbers instead of re-deriving intervals. */
  readonly dist: bigint;
}

export class FingerTable {
  private readonly slots: (RingNode | undefined)[] = new Array<RingNode | undefined>(RING_BITS).fill(undefined);
  /** The distinct fingers, farthest first; rebuilt after a change (lookups far outnumber changes). */
  private distinctCache: Distinct[] | null = null;
  /** Bumped whenever a slot changes (adaptive stabilisation compares it between rounds). */
  version = 0;

  constructor(readonly self: RingNode) {}

  start(i: number): bigint {
    return fingerStart(this.self.pos, i);
  }

  get(i: number): RingNode | undefined {
    return this.slots[i];
  }

  /**
   * Sets finger i to `node` (the successor of start(i)) and every later finger whose start lies in (self, node],
   * since their successor is the same node. Returns the first index not covered (RING_BITS when all are).
   */
  fill(i: number, node: RingNode): number {
    if (node.id === this.self.id) {
      if (this.slots[i] !== undefined) this.changed();
      this.slots[i] = undefined;
      return i + 1;
    }
    let j = i;
    this.put(j++, node);
    while (j < RING_BITS && inHalfOpen(this.start(j), this.self.pos, node.pos)) this.put(j++, node);
    return j;
  }

  private put(i: number, node: RingNode): void {
    if (this.slots[i]?.id === node.id) return;
    this.slots[i] = node;
    this.changed();
  }

  private changed(): void {
    this.distinctCache = null;
    this.version++;
  }

  /** Forgets a peer everywhere in the table. */
  remove(id: PeerId): void {
    for (let i = 0; i < RING_BITS; i++) {
      if (this.slots[i]?.id !== id) continue;
      this.slots[i] = undefined;
      this.changed();
    }
  }

  /**
   * The finger that most closely precedes `key` (strictly between self and key), scanning from the farthest
   * finger down as in the paper's closest_preceding_node; undefined when no finger precedes the key.
   */
  closestPreceding(key: bigint): RingNode | undefined {
    const dk = distance(this.self.pos, key);
    for (const f of this.farthestFirst()) if (f.dist < dk) return f.node;
    return undefined;
  }

  private farthestFirst(): Distinct[] {
    if (this.distinctCache) return this.distinctCache;
    const out = this.distinct().map((node) => ({ node, dist: distance(this.self.pos, node.pos) }));
    out.sort((a, b) => (a.dist > b.dist ? -1 : a.dist < b.dist ? 1 : 0));
    this.distinctCache = out;
    return out;
  }

  /** The distinct fingers, nearest first. */
  distinct(): RingNode[] {
    const out: RingNode[] = [];
    const seen = new Set<PeerId>();
    for (const f of this.slots) {
      if (f === undefined || seen.has(f.id)) continue;
      seen.add(f.id);
      out.push(f);
    }
    return out;
  }

  /** Finger i's peer id, or undefined (tests and snapshots). */
  idAt(i: number): PeerId | undefined {
    return this.slots[i]?.id;
  }
}
