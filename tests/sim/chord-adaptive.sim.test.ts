/**
 * Seeded simulations of Chord's adaptive stabilisation (chord.ts, maxRoundIntervalTicks): an idle stable ring sends
 * a fraction of the fixed-rate ring's messages, and it still repairs itself — after nodes crash with their links
 * reported down, after they fall silent (only the reply timeouts notice), and when new nodes join — with every
 * survivor's successor list true again and lookups answered by the true successor.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import { CycleEngine } from '../../src/sim/cycle-engine.ts';
import { SimNetwork } from '../../src/sim/network.ts';
import { addNodes, removeFraction } from '../../src/sim/churn.ts';
import { Chord } from '../../src/protocols/chord/chord.ts';
import { chordOf, measureLookups, seedRingSuccessors } from '../../src/protocols/chord/chord-sim.ts';
import { SortedRing } from '../../src/protocols/chord/sorted-ring.ts';
import { positionOf } from '../../src/protocols/chord/ring.ts';

const N = 200;
const CAP = 8;

function ring(options: { cap: number; peerDownOnDeadLink?: boolean; seed?: number }): { network: SimNetwork; engine: CycleEngine } {
  const network = new SimNetwork({ seed: options.seed ?? 77, peerDownOnDeadLink: options.peerDownOnDeadLink ?? true });
  const engine = new CycleEngine(network);
  network.addNodes(N, (id) => [new Chord(id, { maxRoundIntervalTicks: options.cap })]);
  seedRingSuccessors(network);
  engine.run(40);
  return { network, engine };
}

/** Messages the whole ring sends in `ticks` ticks. */
function sentDuring(network: SimNetwork, engine: CycleEngine, ticks: number): number {
  const before = network.stats.sent;
  engine.run(ticks);
  return network.stats.sent - before;
}

/** Every live node's successor list is its true r = 8 successors. */
function trueSuccessorLists(network: SimNetwork): number {
  const truth = new SortedRing(network.live().map((n) => n.id));
  return network.live().filter((n) => {
    const want = truth.successorsOf(positionOf(truth.next(n.id)!), 8).filter((id) => id !== n.id);
    return chordOf(n).successors.ids().join() !== want.join();
  }).length;
}

const lookups = (network: SimNetwork, engine: CycleEngine, seed: number) =>
  measureLookups(network, () => engine.drain(), 300, createRng(seed), `a${seed}`);

describe('Chord adaptive stabilisation', () => {
  it('an idle stable ring backs off to the cap and sends a fraction of the fixed-rate messages, with the same answers', () => {
    const fixed = ring({ cap: 1 });
    const adaptive = ring({ cap: CAP });
    expect(trueSuccessorLists(adaptive.network)).toBe(0);
    expect(adaptive.network.live().every((n) => chordOf(n).currentRoundInterval() === CAP)).toBe(true);
    expect(fixed.network.live().every((n) => chordOf(n).currentRoundInterval() === 1)).toBe(true);

    const ticks = 80;
    const fixedSent = sentDuring(fixed.network, fixed.engine, ticks);
    const adaptiveSent = sentDuring(adaptive.network, adaptive.engine, ticks);
    console.log(`chord idle, ${N} nodes, ${ticks} ticks: ${(fixedSent / N / ticks).toFixed(2)} messages per node per tick at a fixed rate, ${(adaptiveSent / N / ticks).toFixed(2)} adaptive (cap ${CAP})`);
    expect(adaptiveSent).toBeLessThan(fixedSent / 4);

    const a = lookups(adaptive.network, adaptive.engine, 1);
    expect(a.failed).toBe(0);
    expect(a.correct).toBe(a.total);
  });

  it('repairs the ring after 10% crash at once (links reported down), then backs off again', () => {
    const { network, engine } = ring({ cap: CAP });
    removeFraction(network, 0.1);
    // The survivors only find out when they next talk to a dead node: that is at most one interval away.
    engine.run(CAP + 20);
    expect(trueSuccessorLists(network)).toBe(0);
    const r = lookups(network, engine, 2);
    expect(r.failed).toBe(0);
    expect(r.correct).toBe(r.total);
    engine.run(40);
    expect(network.live().every((n) => chordOf(n).currentRoundInterval() === CAP)).toBe(true);
  });

  it('repairs the ring after 10% fall silent (no link closes: the reply timeouts must notice)', () => {
    const { network, engine } = ring({ cap: CAP, peerDownOnDeadLink: false });
    removeFraction(network, 0.1);
    // A silent successor is dropped within one interval plus the reply timeout (3 ticks), then stabilisation walks on.
    engine.run(CAP + 3 + 30);
    expect(trueSuccessorLists(network)).toBe(0);
    const truth = new SortedRing(network.live().map((n) => n.id));
    const truePred = new Map(network.live().map((n) => [truth.next(n.id)!, n.id] as const));
    expect(network.live().filter((n) => chordOf(n).predecessor() !== truePred.get(n.id)).length).toBe(0);
  });

  it('takes in nodes that join an idle ring', () => {
    const { network, engine } = ring({ cap: CAP });
    addNodes(network, 20, (id) => [new Chord(id, { maxRoundIntervalTicks: CAP })], 1);
    engine.run(40);
    expect(trueSuccessorLists(network)).toBe(0);
    const r = lookups(network, engine, 3);
    expect(r.failed).toBe(0);
    expect(r.correct).toBe(r.total);
  });
});
