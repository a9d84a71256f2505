/**
 * T-Man slice rings over Cyclon in the cycle simulator, N = 10,000. Two slices by cpuScore — "gold", the top 10%
 * (1,000 nodes) and "silver", the next 20% (2,000 nodes) — each build a ring sorted by peer id; the other 70%
 * run Cyclon only and ignore T-Man messages. Slice membership is the true slice (an oracle), so the test measures
 * T-Man alone; slicing.sim.test.ts measures how nodes learn their slice.
 *
 * Checked: each ring is perfect (every live member's succ and pred are its true neighbours among live members)
 * within a bounded number of cycles; after half of all nodes crash at once, each ring is perfect again.
 */
import { describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import { SimNetwork, type SimNode } from '../../src/sim/network.ts';
import { CycleEngine } from '../../src/sim/cycle-engine.ts';
import { bootstrapRandom, removeFraction } from '../../src/sim/churn.ts';
import { Cyclon } from '../../src/protocols/peer-sampling/cyclon.ts';
import { TMan } from '../../src/protocols/tman/tman.ts';

const N = 10_000;
/** Bound on cycles to a perfect ring: 60 ≈ 4.5 · log2 N. Seeds tried so far need 25–45 (a long tail of a few nodes). */
const LIMIT = 60;
const SLICES = ['silver', 'gold'] as const;

/** Fraction of live members of `slice` whose pred and succ are their true ring neighbours among live members. */
function ringCorrectness(net: SimNetwork, sliceOf: Map<PeerId, string | null>, slice: string): number {
  const members = net.live().filter((n) => sliceOf.get(n.id) === slice);
  const ids = members.map((n) => n.id).sort();
  const position = new Map(ids.map((id, i) => [id, i]));
  let correct = 0;
  for (const node of members) {
    const i = position.get(node.id)!;
    const { pred, succ } = (node.protocols[1] as TMan).ringNeighbours();
    if (succ === ids[(i + 1) % ids.length] && pred === ids[(i - 1 + ids.length) % ids.length]) correct++;
  }
  return members.length === 0 ? 1 : correct / members.length;
}

function build(seed: number): { net: SimNetwork; sliceOf: Map<PeerId, string | null> } {
  const net = new SimNetwork({ seed });
  const scores: { id: PeerId; score: number }[] = [];
  const sliceOf = new Map<PeerId, string | null>();
  net.addNodes(N, (id, rng) => {
    scores.push({ id, score: rng.next() });
    const cyclon = new Cyclon({ viewSize: 20, shuffleLength: 8 });
    return [cyclon, new TMan({ view: cyclon, slice: () => sliceOf.get(id) ?? null, viewSize: 20, messageSize: 10 })];
  });
  scores.sort((a, b) => a.score - b.score);
  scores.forEach(({ id }, i) => sliceOf.set(id, i >= 0.9 * N ? 'gold' : i >= 0.7 * N ? 'silver' : null));
  bootstrapRandom(net, 20);
  return { net, sliceOf };
}

/** Runs until every slice ring is perfect or `limit` cycles pass; returns the cycle count (or limit + 1) and the trace. */
function runUntilPerfect(engine: CycleEngine, net: SimNetwork, sliceOf: Map<PeerId, string | null>, limit: number) {
  const trace: string[] = [];
  for (let c = 1; c <= limit; c++) {
    engine.run(1);
    const scores = SLICES.map((s) => ringCorrectness(net, sliceOf, s));
    trace.push(scores.map((x) => (x * 100).toFixed(1)).join('/'));
    if (scores.every((x) => x === 1)) return { cycles: c, trace };
  }
  return { cycles: limit + 1, trace };
}

describe('T-Man slice rings over Cyclon', () => {
  it('builds a perfect ring in each of two slices, and repairs both after half the nodes crash', () => {
    const { net, sliceOf } = build(2009);
    const engine = new CycleEngine(net);
    const built = runUntilPerfect(engine, net, sliceOf, LIMIT);
    console.log(`N=${N} rings silver/gold % correct per cycle: ${built.trace.join(' ')}; perfect after ${built.cycles} cycles (log2 N = ${Math.log2(N).toFixed(1)})`);
    expect(built.cycles).toBeLessThanOrEqual(LIMIT);

    const victims = removeFraction(net, 0.5);
    expect(victims.length).toBe(N / 2);
    const afterCrash = SLICES.map((s) => ringCorrectness(net, sliceOf, s));
    expect(Math.max(...afterCrash)).toBeLessThan(0.5); // the crash really broke the rings
    const repaired = runUntilPerfect(engine, net, sliceOf, LIMIT);
    console.log(`after 50% crash: right after ${afterCrash.map((x) => (x * 100).toFixed(1)).join('/')}%, per cycle ${repaired.trace.join(' ')}; perfect after ${repaired.cycles} cycles`);
    expect(repaired.cycles).toBeLessThanOrEqual(LIMIT);
  });

  it('a node outside the slices never joins a ring, and members only list members', () => {
    const { net, sliceOf } = build(7);
    new CycleEngine(net).run(8);
    for (const node of net.live() as SimNode[]) {
      const tman = node.protocols[1] as TMan;
      const mine = sliceOf.get(node.id);
      if (mine === null) expect(tman.view()).toEqual([]);
      else for (const e of tman.view()) expect(sliceOf.get(e.peer)).toBe(mine);
    }
  });
});
