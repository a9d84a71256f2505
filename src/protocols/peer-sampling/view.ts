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
  if (n * 4 <= len) {
    const chosen = new Set<number>();
    while (chosen.size < n) chosen.add(rng.int(len));
    return [...chosen].map((i) => items[i]!);
  }
  const copy = items.slice();
  const k = Math.min(n, len);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(len - i);
    const t = copy[i]!;
    copy[i] = copy[j]!;
    copy[j] = t;
  }
  copy.length = k;
  return copy;
}
