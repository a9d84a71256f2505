/**
 * Chord's successor list (Stoica et al. 2003, §5.2): the first r nodes that follow this one on the ring, nearest
 * first. Stabilize refreshes it from the successor's own list, so a node survives the simultaneous failure of up
 * to r - 1 of its successors (with r = 8 and 30% of nodes failing, all eight die with probability 0.3^8 ≈ 7e-5).
 *
 * Invariants: never holds self, never holds a node twice, at most r entries, ordered by clockwise distance from
 * self as far as the list's sources were right.
 */
import type { PeerId } from '../../core/ids.ts';
import { distance, type RingNode } from './ring.ts';

export class SuccessorList {
  private list: RingNode[] = [];
  /** Bumped whenever the list's ids change (adaptive stabilisation compares it between rounds). */
  version = 0;

  constructor(
    readonly self: RingNode,
    readonly r: number,
  ) {
    if (r < 1) throw new Error('E_CHORD_OPTIONS: the successor list needs r >= 1');
  }

  first(): RingNode | undefined {
    return this.list[0];
  }

  get size(): number {
    return this.list.length;
  }

  nodes(): readonly RingNode[] {
    return this.list;
  }

  ids(): PeerId[] {
    return this.list.map((n) => n.id);
  }

  has(id: PeerId): boolean {
    for (const n of this.list) if (n.id === id) return true;
    return false;
  }

  /**
   * Takes the successor's word for what follows it: the list becomes [succ, ...theirs], cut where it wraps back
   * to self, without duplicates, at most r long.
   */
  reconcile(succ: RingNode, theirs: readonly RingNode[]): void {
    const out: RingNode[] = [];
    const seen = new Set<PeerId>();
    for (const n of [succ, ...theirs]) {
      if (n.id === this.self.id) break;
      if (seen.has(n.id)) continue;
      seen.add(n.id);
      out.push(n);
      if (out.length >= this.r) break;
    }
    this.set(out);
  }

  /** A node found between self and the successor becomes the new first entry. */
  prepend(node: RingNode): void {
    if (node.id === this.self.id) return;
    this.set([node, ...this.list.filter((n) => n.id !== node.id)].slice(0, this.r));
  }

  /** Inserts a node at its clockwise place (used when the list ran dry and a finger stands in). */
  insert(node: RingNode): void {
    if (node.id === this.self.id || this.has(node.id)) return;
    const d = distance(this.self.pos, node.pos);
    let at = this.list.findIndex((n) => distance(this.self.pos, n.pos) > d);
    if (at < 0) at = this.list.length;
    this.list.splice(at, 0, node);
    if (this.list.length > this.r) this.list.length = this.r;
    this.version++;
  }

  remove(id: PeerId): boolean {
    const before = this.list.length;
    this.list = this.list.filter((n) => n.id !== id);
    if (this.list.length === before) return false;
    this.version++;
    return true;
  }

  private set(next: RingNode[]): void {
    const same = next.length === this.list.length && next.every((n, i) => n.id === this.list[i]!.id);
    this.list = next;
    if (!same) this.version++;
  }

  /** The entry farthest from self that still lies strictly between self and key. */
  closestPreceding(key: bigint): RingNode | undefined {
    const dk = distance(this.self.pos, key);
    for (let i = this.list.length - 1; i >= 0; i--) {
      const n = this.list[i]!;
      const d = distance(this.self.pos, n.pos);
      if (d > 0n && d < dk) return n;
    }
    return undefined;
  }
}
