/**
 * The one interface other layers use to get peers (STYLE.md: "Peer sampling offers View.sample(n)").
 * Aggregation, slicing, T-Man and Chord's bootstrap depend on this alone, so in the simulator a uniform random
 * sampler can stand in for Cyclon, and in production Cyclon's view is the source.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Rng } from '../../core/rng.ts';

export interface View {
  /** Up to n distinct peers, never the caller itself. */
  sample(n: number, rng: Rng): PeerId[];
}

/** A view over a fixed or changing list of peers (tests, bootstrap lists, the simulator's oracle). */
export function viewOf(peers: () => readonly PeerId[]): View {
  return { sample: (n, rng) => sampleDistinct(peers(), n, rng) };
}

/**
 * Up to n distinct elements chosen uniformly. For n much smaller than the list it draws indices with rejection
 * instead of copying the list, so sampling one peer out of 10^5 costs O(1), not O(N); otherwise it runs only the
 * first n steps of a Fisher–Yates shuffle (n random draws, not one per element).
 */
export function sampleDistinct<T>(items: readonly T[], n: number, rng: Rng): T[] {
  const len = items.length;
  if (n <= 0 || len === 0) return [];
  if (n === 1) return [items[rng.int(len)]!];
  const positions = scratchPositions(Math.min(n, len));
  const k = samplePositions(len, n, rng, positions);
  const out = new Array<T>(k);
  for (let i = 0; i < k; i++) out[i] = items[positions[i]!]!;
  return out;
}

/**
 * The positions in [0, len) that `sampleDistinct` picks, in its order and with the same random draws, written
 * into `out[0..k)`; returns k = min(n, len). For callers that keep their list in several arrays (Cyclon's view)
 * and want no copy of it. `out` must hold at least min(n, len) numbers.
 */
export function samplePositions(len: number, n: number, rng: Rng, out: Int32Array): number {
  if (n <= 0 || len === 0) return 0;
  if (n * 4 <= len) return drawDistinct(len, n, rng, out);
  const k = Math.min(n, len);
  const order = scratchOrder(len);
  for (let i = 0; i < len; i++) order[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(len - i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
    out[i] = order[i]!;
  }
  return k;
}

/** Rejection sampling: draws until n distinct positions came up, kept in the order they first came up. */
function drawDistinct(len: number, n: number, rng: Rng, out: Int32Array): number {
  if (n > 32) {
    const chosen = new Set<number>();
    while (chosen.size < n) chosen.add(rng.int(len));
    let i = 0;
    for (const p of chosen) out[i++] = p;
    return n;
  }
  let count = 0;
  while (count < n) {
    const p = rng.int(len);
    let seen = false;
    for (let i = 0; i < count; i++) if (out[i] === p) seen = true;
    if (!seen) out[count++] = p;
  }
  return n;
}

// Scratch arrays, reused across calls (nothing here calls out while they are in use, except rng.int).
let order = new Int32Array(64);
let positions = new Int32Array(64);

function scratchOrder(len: number): Int32Array {
  if (order.length < len) order = new Int32Array(Math.max(len, order.length * 2));
  return order;
}

function scratchPositions(len: number): Int32Array {
  if (positions.length < len) positions = new Int32Array(Math.max(len, positions.length * 2));
  return positions;
}
