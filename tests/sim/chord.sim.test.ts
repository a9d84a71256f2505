/**
 * Seeded Chord simulations (Stoica et al. 2003, §6): after stabilisation every lookup returns the true successor
 * of its key and the mean path is about ½·log2 N hops; after 30% of the nodes fail at once, the ring repairs
 * itself and lookups are correct again. Also: a ring grown only by joins converges.
 */
import { describe, expect, it } from 'vitest';
import { CycleEngine } from '../../src/sim/cycle-engine.ts';
import { SimNetwork } from '../../src/sim/network.ts';
import { addNodes, removeFraction } from '../../src/sim/churn.ts';
import { Chord } from '../../src/protocols/chord/chord.ts';
import { chordOf, measureLookups, seedRingSuccessors } from '../../src/protocols/chord/chord-sim.ts';
import { SortedRing } from '../../src/protocols/chord/sorted-ring.ts';
import { positionOf } from '../../src/protocols/chord/ring.ts';
import { createRng } from '../../src/core/rng.ts';

const check = (network: SimNetwork, engine: CycleEngine, count: number, seed: number) =>
  measureLookups(network, () => engine.drain(), count, createRng(seed), `q${seed}`);

describe('Chord simulation', () => {
  it('N = 10,000: lookups find the true successor in about ½·log2 N hops, and again after 30% fail at once', () => {
    const N = 10_000;
    const network = new SimNetwork({ seed: 2003 });
    const engine = new CycleEngine(network);
    network.addNodes(N, (id) => [new Chord(id)]);
    seedRingSuccessors(network);
    engine.run(20);

    // Fingers were built by fix_fingers alone: every finger of a sample of nodes is the true successor of its start.
    const oracle = new SortedRing(network.live().map((n) => n.id));
    for (const node of createRng(5).sample(network.live(), 50)) {
      const fingers = chordOf(node).fingers;
      for (let i = 0; i < 160; i++) {
        const truth = oracle.successorOf(fingers.start(i))!;
        expect(fingers.idAt(i)).toBe(truth === node.id ? undefined : truth);
      }
    }

    const before = check(network, engine, 2000, 1);
    const log2N = Math.log2(N);
    console.log(`chord N=${N}: ${before.correct}/${before.total} correct, mean hops ${before.meanHops.toFixed(3)} = ${(before.meanHops / log2N).toFixed(3)}·log2 N`);
    expect(before.failed).toBe(0);
    expect(before.correct).toBe(before.total);
    expect(before.meanHops).toBeGreaterThan(0.35 * log2N);
    expect(before.meanHops).toBeLessThan(0.65 * log2N);

    removeFraction(network, 0.3);
    engine.run(8);
    const after = check(network, engine, 2000, 2);
    console.log(`chord after 30% failure (N=${network.live().length}): ${after.correct}/${after.total} correct, mean hops ${after.meanHops.toFixed(3)}`);
    expect(after.failed).toBe(0);
    expect(after.correct).toBe(after.total);
    // Every survivor's successor is its true successor again.
    const ring = new SortedRing(network.live().map((n) => n.id));
    const wrong = network.live().filter((n) => chordOf(n).successor() !== ring.next(n.id)).length;
    expect(wrong).toBe(0);
  });

  it('a ring grown only by joins through random known peers converges to the true ring', () => {
    const network = new SimNetwork({ seed: 7 });
    const engine = new CycleEngine(network);
    network.addNode((id) => [new Chord(id)]);
    for (let i = 0; i < 20; i++) {
      addNodes(network, 10, (id) => [new Chord(id)], 1);
      engine.run(2);
    }
    engine.run(20);
    const ring = new SortedRing(network.live().map((n) => n.id));
    for (const node of network.live()) {
      const chord = chordOf(node);
      expect(chord.successor()).toBe(ring.next(node.id));
      expect(chord.successors.ids()).toEqual(ring.successorsOf(positionOf(ring.next(node.id)!), 8));
    }
    const result = check(network, engine, 300, 3);
    expect(result.failed).toBe(0);
    expect(result.correct).toBe(result.total);
  });
});
