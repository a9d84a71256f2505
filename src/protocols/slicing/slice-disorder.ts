/**
 * Slice disorder: how far nodes' slice estimates are from their true slice (Jelasity & Kermarrec, P2P 2006,
 * measure the slice disorder; Gramoli et al. measure the same for Sliver). Pure functions over a snapshot, used by
 * the simulations and the bench — no protocol reads them.
 */
import type { PeerId } from '../../core/ids.ts';
import { compareByAttribute, sliceIndex } from './slicer.ts';

export interface RankedNode {
  readonly peer: PeerId;
  /** Attribute value. */
  readonly value: number;
  /** The node's own rank estimate. */
  readonly estimate: number;
}

export interface Disorder {
  /** Mean |estimated slice − true slice|. */
  readonly meanDistance: number;
  /** Fraction of nodes whose estimated slice is not their true slice. */
  readonly wrongFraction: number;
}

/** Nodes in ascending order (value, then peer id); position i has true rank i / N. */
export function inTrueOrder<T extends { readonly peer: PeerId; readonly value: number }>(nodes: readonly T[]): T[] {
  return nodes.slice().sort((a, b) => compareByAttribute(a.value, a.peer, b.value, b.peer));
}

export function sliceDisorder(nodes: readonly RankedNode[], boundaries: readonly number[]): Disorder {
  const ordered = inTrueOrder(nodes);
  return disorderOf(ordered.map((n) => n.estimate), boundaries);
}

/**
 * The disorder ordered slicing still has once its random values are perfectly sorted: the i-th smallest value goes
 * to the i-th node in true order. Random values are not evenly spaced, so this is not zero (the paper's floor).
 */
export function sortedValuesFloor(nodes: readonly RankedNode[], boundaries: readonly number[]): Disorder {
  const sortedEstimates = nodes.map((n) => n.estimate).sort((a, b) => a - b);
  return disorderOf(sortedEstimates, boundaries);
}

/** estimates[i] is the estimate of the node at true position i. */
function disorderOf(estimates: readonly number[], boundaries: readonly number[]): Disorder {
  const n = estimates.length;
  if (n === 0) return { meanDistance: 0, wrongFraction: 0 };
  let distance = 0, wrong = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(sliceIndex(estimates[i]!, boundaries) - sliceIndex(i / n, boundaries));
    distance += d;
    if (d > 0) wrong++;
  }
  return { meanDistance: distance / n, wrongFraction: wrong / n };
}

/**
 * Sliver's floor: the wrong-slice fraction to expect when each node's estimate is the rank among k values drawn
 * without replacement from the N − 1 others (k = `sampleSizes[i]` for the node at true position i). By the normal
 * approximation of the hypergeometric, the estimate at true rank q has sd sqrt(q(1−q)/k · (N−1−k)/(N−2)).
 */
export function samplingFloor(sampleSizes: readonly number[], boundaries: readonly number[]): number {
  const n = sampleSizes.length;
  if (n < 3) return 0;
  let expectedWrong = 0;
  for (let i = 0; i < n; i++) {
    const q = i / n;
    const k = Math.max(1, sampleSizes[i]!);
    const sd = Math.sqrt((Math.max(q * (1 - q), 1 / n) / k) * Math.max(0, n - 1 - k) / (n - 2));
    const slice = sliceIndex(q, boundaries);
    const lo = slice === 0 ? -Infinity : boundaries[slice - 1]!;
    const hi = slice === boundaries.length ? Infinity : boundaries[slice]!;
    const inside = sd === 0 ? 1 : normalCdf((hi - q) / sd) - normalCdf((lo - q) / sd);
    expectedWrong += 1 - inside;
  }
  return expectedWrong / n;
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf, error < 1.5e-7). */
function normalCdf(x: number): number {
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
