/**
 * The ring as an oracle sees it: every live id, sorted by position. It answers "who is the true successor of
 * this key" by binary search. Simulations check Chord's answers against it, and the storage placement plan uses
 * it to say which r nodes should hold a chunk before and after membership changes. It is global knowledge, which
 * no peer has; peers use Chord.
 */
import type { PeerId } from '../../core/ids.ts';
import { positionOf } from './ring.ts';

export class SortedRing {
  private readonly ids: PeerId[];
  private readonly positions: bigint[];

  constructor(ids: Iterable<PeerId>) {
    const nodes = [...new Set(ids)].map((id) => ({ id, pos: positionOf(id) }));
    nodes.sort((a, b) => (a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : 0));
    this.ids = nodes.map((n) => n.id);
    this.positions = nodes.map((n) => n.pos);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Index of the first node at or after `key` (wrapping to 0). */
  private indexOf(key: bigint): number {
    let lo = 0, hi = this.positions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.positions[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.positions.length ? 0 : lo;
  }

  /** The node that owns `key`: the first whose id is equal to or follows it clockwise. */
  successorOf(key: bigint): PeerId | undefined {
    if (this.ids.length === 0) return undefined;
    return this.ids[this.indexOf(key)];
  }

  /** The first `r` distinct nodes at or after `key`, clockwise. */
  successorsOf(key: bigint, r: number): PeerId[] {
    if (this.ids.length === 0) return [];
    const start = this.indexOf(key);
    const n = Math.min(r, this.ids.length);
    return Array.from({ length: n }, (_, i) => this.ids[(start + i) % this.ids.length]!);
  }

  /** The node that follows `id` (a member) on the ring. */
  next(id: PeerId): PeerId | undefined {
    if (this.ids.length === 0) return undefined;
    return this.ids[(this.indexOf(positionOf(id)) + 1) % this.ids.length];
  }

  /** All ids in ring order. */
  all(): readonly PeerId[] {
    return this.ids;
  }
}
