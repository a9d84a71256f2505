/**
 * Network size estimation (Jelasity, Montresor, Babaoglu 2005) at N = 10,000 in the cycle-driven simulator:
 * every node's estimate within 2% of N once an epoch has converged, and within 2% of the new size two epochs
 * after half of the nodes crash.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/network.ts';
import { CycleEngine } from '../../src/sim/cycle-engine.ts';
import { EventEngine } from '../../src/sim/event-engine.ts';
import { bootstrapRandom, removeFraction } from '../../src/sim/churn.ts';
import { uniformView } from '../../src/sim/uniform-view.ts';
import { withLatency, withLoss, memoryTransport } from '../../src/sim/transport.ts';
import { createRng } from '../../src/core/rng.ts';
import { SizeEstimation } from '../../src/protocols/aggregation/size-estimation.ts';
import { Cyclon } from '../../src/protocols/peer-sampling/cyclon.ts';

const EPOCH = 20;

function estimates(network: SimNetwork, nodes: Map<string, SizeEstimation>): number[] {
  return network.live().map((n) => nodes.get(n.id)!.estimate() ?? Number.NaN);
}

function expectAllWithin(values: number[], target: number, tolerance: number): void {
  const worst = Math.max(...values.map((v) => (Number.isNaN(v) ? Infinity : Math.abs(v - target) / target)));
  expect(worst).toBeLessThan(tolerance);
}

function uniformRun(n: number, seed: number) {
  const network = new SimNetwork({ seed });
  const nodes = new Map<string, SizeEstimation>();
  const view = uniformView(network);
  network.addNodes(n, (id) => {
    const s = new SizeEstimation({ view, epochCycles: EPOCH });
    nodes.set(id, s);
    return [s];
  });
  return { network, nodes, engine: new CycleEngine(network) };
}

describe('size estimation simulation, N = 10,000, uniform random peers', () => {
  it('estimates N within 2% at every node, then follows a 50% crash within two epochs', () => {
    const { network, nodes, engine } = uniformRun(10_000, 2005);
    engine.run(EPOCH - 1);
    expect(estimates(network, nodes).every(Number.isNaN)).toBe(true); // null until an epoch completes
    engine.run(2 * EPOCH); // the first epoch (all lead) and a second one with ~4 leaders
    expectAllWithin(estimates(network, nodes), 10_000, 0.02);
    removeFraction(network, 0.5);
    engine.run(2 * EPOCH);
    expectAllWithin(estimates(network, nodes), 5_000, 0.02);
  });

  it('is deterministic: the same seed gives the same estimates', () => {
    const run = (seed: number) => {
      const { network, nodes, engine } = uniformRun(1_000, seed);
      engine.run(2 * EPOCH + 1);
      return estimates(network, nodes);
    };
    const a = run(3);
    expect(a.every((v) => v > 900 && v < 1100)).toBe(true);
    expect(run(3)).toEqual(a);
    expect(run(4)).not.toEqual(a);
  });
});

function overCyclon(loss: number) {
  const network = new SimNetwork({
    seed: 11,
    transport: withLoss(withLatency(memoryTransport(), createRng(1), 10, 60), createRng(2), loss),
  });
  const nodes = new Map<string, SizeEstimation>();
  network.addNodes(2_000, (id) => {
    const cyclon = new Cyclon({ viewSize: 20, shuffleLength: 8 });
    const s = new SizeEstimation({ view: cyclon, epochCycles: EPOCH });
    nodes.set(id, s);
    return [cyclon, s];
  });
  bootstrapRandom(network, 20);
  new EventEngine(network, { tickMs: 1000, jitter: 0.05 }).runUntil((3 * EPOCH + 1) * 1000);
  return { network, nodes };
}

describe('size estimation over Cyclon in the event-driven engine, 10–60 ms latency', () => {
  it('estimates N = 2,000 within 1% at every node without loss', () => {
    const { network, nodes } = overCyclon(0);
    expectAllWithin(estimates(network, nodes), 2_000, 0.01);
  });

  it('stays within 20% with 1% message loss', () => {
    const { network, nodes } = overCyclon(0.01);
    expect(network.stats.lost).toBeGreaterThan(0);
    // A lost pull leaves the replier averaged and the initiator not, so mass is created or destroyed; one such
    // loss next to a leader early in an epoch skews that epoch's estimate by several percent (measured: up to
    // ~11% across seeds). Robust variants (more instances, discarding outliers) are future work.
    expectAllWithin(estimates(network, nodes), 2_000, 0.2);
  });
});
