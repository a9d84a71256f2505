/**
 * What every slicing protocol offers (ordered slicing, Jelasity & Kermarrec, P2P 2006): each node estimates its
 * rank — the fraction of nodes whose attribute value is below its own — and from it the slice it belongs to.
 * Ranks are in [0, 1): the node at 0-based position i in ascending order (value, then peer id) of N nodes has
 * rank i / N, so "the top 10%" is rank >= 0.9.
 *
 * Slices are given by `boundaries`: increasing cut points in (0, 1). Slice k holds ranks in
 * [boundaries[k-1], boundaries[k]) with boundaries[-1] = 0 and boundaries[len] = 1; so [0.7, 0.9] makes three
 * slices: bottom 70%, next 20%, top 10%.
 */
import type { PeerId } from '../../core/ids.ts';

export interface Slicer {
  /** This node's current estimate of its rank, in [0, 1]. */
  rankEstimate(): number;
  /** Index of the slice this node believes it is in. */
  sliceOf(boundaries: readonly number[]): number;
}

/** Index of the slice that holds `rank` (the number of boundaries at or below it). */
export function sliceIndex(rank: number, boundaries: readonly number[]): number {
  let k = 0;
  while (k < boundaries.length && rank >= boundaries[k]!) k++;
  return k;
}

/** Total order of nodes by attribute: value first, peer id breaks ties. Negative when a ranks below b. */
export function compareByAttribute(aValue: number, aPeer: PeerId, bValue: number, bPeer: PeerId): number {
  if (aValue !== bValue) return aValue < bValue ? -1 : 1;
  return aPeer < bPeer ? -1 : aPeer > bPeer ? 1 : 0;
}
