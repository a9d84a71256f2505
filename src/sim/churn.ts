/**
 * Churn and bootstrap helpers: massive failures (a random fraction of the live nodes crashes at once), joins
 * with a bootstrap list, and the random k-out initial wiring PeerSim's WireKOut gives Cyclon experiments.
 * All choices come from the network's master rng.
 */
import type { PeerId } from '../core/ids.ts';
import type { NodeFactory, SimNetwork, SimNode } from './network.ts';

/** Crashes round(fraction · live) random live nodes at once; returns their ids. */
export function removeFraction(network: SimNetwork, fraction: number): PeerId[] {
  const live = network.live();
  const victims = network.rng.sample(live, Math.round(live.length * fraction)).map((n) => n.id);
  for (const id of victims) network.removeNode(id);
  return victims;
}

/** Hands every live node `k` distinct random other live nodes (onPeersDiscovered). */
export function bootstrapRandom(network: SimNetwork, k: number): void {
  const live = network.live();
  for (const node of live) network.discover(node, randomOthers(network, live, node, k));
}

/** Adds `count` nodes, each bootstrapped with `k` random live nodes that were there before it. */
export function addNodes(network: SimNetwork, count: number, factory: NodeFactory, k: number): SimNode[] {
  const before = network.live();
  const added = network.addNodes(count, factory);
  for (const node of added) network.discover(node, randomOthers(network, before, node, k));
  return added;
}

function randomOthers(network: SimNetwork, pool: readonly SimNode[], self: SimNode, k: number): PeerId[] {
  const out = new Set<PeerId>();
  if (pool.length <= k + 1) {
    for (const n of pool) if (n !== self) out.add(n.id);
    return [...out];
  }
  while (out.size < k) {
    const n = pool[network.rng.int(pool.length)]!;
    if (n !== self) out.add(n.id);
  }
  return [...out];
}
