/**
 * T-Man's ranking function for a ring sorted by peer id (Jelasity, Montresor, Babaoglu 2009, section 4: the
 * ring is built by ranking candidates by their distance on the ring). Peer ids are equal-length lowercase hex,
 * so string order is numeric order and no big-integer arithmetic is needed.
 *
 * Ranking alternates between the nearest successors (clockwise) and the nearest predecessors
 * (counter-clockwise), so a view of c entries holds about c/2 on each side instead of c on the nearer side.
 */
import type { PeerId } from '../../core/ids.ts';

/**
 * Up to `count` distinct candidates (never `self`) in ring-distance order from `self`: nearest successor, nearest
 * predecessor, second successor, second predecessor, and so on.
 */
export function rankByRingDistance(self: PeerId, candidates: Iterable<PeerId>, count: number): PeerId[] {
  const sorted = [...new Set(candidates)].filter((p) => p !== self).sort();
  const n = sorted.length;
  if (n === 0 || count <= 0) return [];
  const firstAbove = lowerBound(sorted, self);
  const out: PeerId[] = [];
  const taken = new Set<number>();
  let s = 0; // steps clockwise
  let p = 0; // steps counter-clockwise
  while (out.length < Math.min(count, n)) {
    const succ = (firstAbove + s) % n;
    if (s < n) {
      s++;
      if (!taken.has(succ)) {
        taken.add(succ);
        out.push(sorted[succ]!);
        if (out.length >= count) break;
      }
    }
    const pred = (((firstAbove - 1 - p) % n) + n) % n;
    if (p < n) {
      p++;
      if (!taken.has(pred)) {
        taken.add(pred);
        out.push(sorted[pred]!);
      }
    }
  }
  return out;
}

/**
 * Up to `count` distinct candidates (never `self`) nearest to `self` on the ring, whichever side they are on. A
 * message buffer uses this: the peer that answers a node far from it has useful entries on one side only, and
 * filling half the buffer from the other side would waste it. Distances use the top 52 bits of the id, exact in
 * a double; the rare tie falls back to the successor first.
 */
export function nearestOnRing(self: PeerId, candidates: Iterable<PeerId>, count: number): PeerId[] {
  const sorted = [...new Set(candidates)].filter((p) => p !== self).sort();
  const n = sorted.length;
  if (n === 0 || count <= 0) return [];
  const origin = ringPosition(self);
  const firstAbove = lowerBound(sorted, self);
  const out: PeerId[] = [];
  let s = 0, p = 0;
  while (out.length < Math.min(count, n)) {
    const succ = sorted[(firstAbove + s) % n]!;
    const pred = sorted[(((firstAbove - 1 - p) % n) + n) % n]!;
    const cw = (ringPosition(succ) - origin + RING) % RING;
    const ccw = (origin - ringPosition(pred) + RING) % RING;
    if (cw <= ccw) {
      out.push(succ);
      s++;
    } else {
      out.push(pred);
      p++;
    }
  }
  return out;
}

const RING = 2 ** 52;

function ringPosition(id: PeerId): number {
  return parseInt(id.slice(0, 13), 16);
}

export interface RingNeighbours {
  readonly pred: PeerId | null;
  readonly succ: PeerId | null;
}

/** The nearest predecessor and successor of `self` among `peers` on the id ring. */
export function ringNeighboursAmong(self: PeerId, peers: Iterable<PeerId>): RingNeighbours {
  let succ: PeerId | null = null, lowest: PeerId | null = null;
  let pred: PeerId | null = null, highest: PeerId | null = null;
  for (const q of peers) {
    if (q === self) continue;
    if (q > self && (succ === null || q < succ)) succ = q;
    if (q < self && (pred === null || q > pred)) pred = q;
    if (lowest === null || q < lowest) lowest = q;
    if (highest === null || q > highest) highest = q;
  }
  return { pred: pred ?? highest, succ: succ ?? lowest };
}

/** Index of the first element greater than `x` (x itself is never in the list). */
function lowerBound(sorted: readonly string[], x: string): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
