/**
 * The simulator's oracle peer sampler: a View that draws uniformly from all live nodes, the "random peer"
 * assumption of the aggregation paper's analysis. Compare with Cyclon's view to see what a real overlay costs.
 */
import { sampleDistinct, type View } from '../protocols/peer-sampling/view.ts';
import type { SimNetwork } from './network.ts';

export function uniformView(network: SimNetwork): View {
  return { sample: (n, rng) => sampleDistinct(network.live(), n, rng).map((node) => node.id) };
}
