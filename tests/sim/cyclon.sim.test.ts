/**
 * Cyclon at N = 10,000 in the cycle-driven simulator, checked against the paper's properties (Voulgaris et al.
 * 2005; reference PeerSim run in BENCH.md): narrow in-degree spread, a connected overlay, and connectivity after
 * half the nodes crash at once.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/network.ts';
import { CycleEngine } from '../../src/sim/cycle-engine.ts';
import { bootstrapRandom, removeFraction } from '../../src/sim/churn.ts';
import { inDegreeStats, largestStrongComponent, largestWeakComponent, viewGraph } from '../../src/sim/metrics.ts';
import { Cyclon } from '../../src/protocols/peer-sampling/cyclon.ts';

function cyclonNetwork(n: number, seed: number) {
  const views = new Map<string, Cyclon>();
  const network = new SimNetwork({ seed });
  network.addNodes(n, (id) => {
    const c = new Cyclon({ viewSize: 20, shuffleLength: 8 });
    views.set(id, c);
    return [c];
  });
  bootstrapRandom(network, 20);
  const engine = new CycleEngine(network);
  const graph = () => viewGraph(network, (node) => views.get(node.id)!.view().map((e) => e.peer));
  return { network, engine, views, graph };
}

describe('Cyclon simulation, N = 10,000, view 20, shuffle 8', () => {
  it('builds a connected overlay with in-degree mean 20 and a narrow spread, and survives losing half the nodes', () => {
    const { network, engine, graph } = cyclonNetwork(10_000, 2005);
    const initial = inDegreeStats(graph());
    engine.run(60);
    const g = graph();
    const deg = inDegreeStats(g);
    expect(deg.mean).toBe(20);
    expect(deg.sd).toBeLessThan(3);
    expect(deg.sd).toBeLessThan(initial.sd * 0.6); // the random initial wiring has sd ~4.5
    expect(largestWeakComponent(g)).toBe(10_000);
    expect(largestStrongComponent(g)).toBe(10_000);

    removeFraction(network, 0.5);
    const justAfter = graph();
    engine.run(20);
    const after = graph();
    expect(network.live()).toHaveLength(5_000);
    expect(largestWeakComponent(after)).toBe(5_000);
    expect(largestStrongComponent(after)).toBe(5_000);
    // Each shuffle drops its (oldest) target, so links to crashed nodes fade without any failure detector.
    expect(after.deadLinks).toBeLessThan(justAfter.deadLinks / 2);
    // Views refill from the survivors' exchanges (a shuffle sent to a crashed node costs its slot until a merge fills it).
    const liveLinks = after.out.reduce((sum, targets) => sum + targets.length, 0);
    expect(liveLinks + after.deadLinks).toBeGreaterThan(0.95 * 20 * 5_000);
  });

  it('is deterministic: the same seed gives the same views, another seed different ones', () => {
    const run = (seed: number) => {
      const { engine, views } = cyclonNetwork(1_000, seed);
      engine.run(15);
      return [...views.values()].map((c) => c.view().map((e) => `${e.peer}:${e.age}`).join(',')).join('|');
    };
    const a = run(7);
    expect(run(7)).toBe(a);
    expect(run(8)).not.toBe(a);
  });
});
