/**
 * Seeded simulation of Chord ring merging (chord.ts, checkForOtherRing): two groups of 50 nodes each form their
 * own correct ring while their peer-sampling views hold only their own group; once the views span both groups,
 * the periodic lookup of a node's own id through a random view peer finds the other ring, and stabilisation
 * splices the two into one correct ring of 100 on which lookups return the true successor.
 */
import { describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import { createRng } from '../../src/core/rng.ts';
import { CycleEngine } from '../../src/sim/cycle-engine.ts';
import { SimNetwork } from '../../src/sim/network.ts';
import { Chord } from '../../src/protocols/chord/chord.ts';
import { chordOf, measureLookups } from '../../src/protocols/chord/chord-sim.ts';
import { SortedRing } from '../../src/protocols/chord/sorted-ring.ts';
import { positionOf } from '../../src/protocols/chord/ring.ts';
import { viewOf } from '../../src/protocols/peer-sampling/view.ts';

const GROUP = 50;

/** Whether following each node's successor pointer over `ids` gives exactly the sorted ring of `ids`. */
function isTrueRing(network: SimNetwork, ids: readonly PeerId[]): boolean {
  const ring = new SortedRing([...ids]);
  return ids.every((id) => chordOf(network.node(id)!).successor() === ring.next(id));
}

describe('Chord ring merge', () => {
  it('two rings of 50 that formed apart merge into one correct ring once peer sampling spans both', () => {
    const network = new SimNetwork({ seed: 4242 });
    const engine = new CycleEngine(network);
    const groupOf = new Map<PeerId, 0 | 1>();
    const groups: [PeerId[], PeerId[]] = [[], []];
    let merged = false;
    const all = (): PeerId[] => [...groups[0], ...groups[1]];
    for (const g of [0, 1] as const) {
      network.addNodes(GROUP, (id) => {
        groupOf.set(id, g);
        groups[g].push(id);
        const peers = (): PeerId[] => (merged ? all() : groups[groupOf.get(id)!]).filter((p) => p !== id);
        return [new Chord(id, { view: viewOf(peers), mergeCheckTicks: 5 })];
      });
    }
    // Each group bootstraps its own ring by joins through its own peers.
    engine.run(40);
    expect(isTrueRing(network, groups[0])).toBe(true);
    expect(isTrueRing(network, groups[1])).toBe(true);
    // Stable and apart: without views that span both groups, more rounds change nothing.
    engine.run(20);
    expect(isTrueRing(network, groups[0])).toBe(true);
    expect(isTrueRing(network, all())).toBe(false);

    merged = true;
    let rounds = 0;
    while (!isTrueRing(network, all()) && rounds < 400) {
      engine.run(5);
      rounds += 5;
    }
    console.log(`chord merge: two rings of ${GROUP} became one correct ring within ${rounds} rounds`);
    expect(isTrueRing(network, all())).toBe(true);
    engine.run(30);
    const ring = new SortedRing(all());
    for (const node of network.live()) {
      expect(chordOf(node).successors.ids()).toEqual(ring.successorsOf(positionOf(ring.next(node.id)!), 8));
    }
    const result = measureLookups(network, () => engine.drain(), 300, createRng(9), 'merge');
    expect(result.failed).toBe(0);
    expect(result.correct).toBe(result.total);
  });
});
