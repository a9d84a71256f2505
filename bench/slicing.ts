/**
 * Slicing and slice-ring benchmark, in the cycle simulator over Cyclon (view 20, shuffle 8), seeded.
 *
 * 1. Slice disorder per cycle of ordered slicing (Jelasity & Kermarrec, P2P 2006: random-value swapping) and
 *    Sliver (Gramoli et al.), three slices by attribute (bottom 70%, next 20%, top 10%), at N = 10^3, 10^4
 *    (10^5 without --quick). Each algorithm's floor is measured in the same run: for ordered slicing the disorder
 *    of its own random values once perfectly sorted, for Sliver the sampling error of the values it holds.
 *    BENCH.md's claim "Sliver converges faster than the random-swap ranking" is a row of its own.
 * 2. T-Man (Jelasity, Montresor, Babaoglu 2009): cycles until the rings of the top-10% and next-20% slices are
 *    perfect, and until they are perfect again after half of all nodes crash, against log2 N (the paper: the
 *    number of cycles grows with log N; it gives no constant, so the ratio only tracks the trend).
 */
import type { PeerId } from '../src/core/ids.ts';
import { SimNetwork, type SimNode } from '../src/sim/network.ts';
import { CycleEngine } from '../src/sim/cycle-engine.ts';
import { bootstrapRandom, removeFraction } from '../src/sim/churn.ts';
import { Cyclon } from '../src/protocols/peer-sampling/cyclon.ts';
import { OrderedSlicing } from '../src/protocols/slicing/ordered-slicing.ts';
import { Sliver } from '../src/protocols/slicing/sliver.ts';
import { inTrueOrder, samplingFloor, sliceDisorder, sortedValuesFloor, type Disorder } from '../src/protocols/slicing/slice-disorder.ts';
import { TMan } from '../src/protocols/tman/tman.ts';
import { row, type BenchRow, type BenchSuite } from './table.ts';

const SEED = 2006;
const BOUNDARIES = [0.7, 0.9];
const JK_SRC = 'Jelasity & Kermarrec, P2P 2006: disorder of the random values once sorted (floor), measured in this run';
const SLIVER_SRC = 'Gramoli et al.: sampling error of the values each node holds (normal approx.), measured in this run';
const TMAN_SRC = 'Jelasity, Montresor, Babaoglu 2009: cycles grow with log N (no constant given); reference = log2 N';

export const slicingSuite: BenchSuite = {
  name: 'slicing',
  run(quick) {
    const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
    return sizes.flatMap((n) => [...slicingRows(n, quick), ...tmanRows(n)]);
  },
};

function slicingRows(n: number, quick: boolean): BenchRow[] {
  const cycles = n <= 1_000 ? (quick ? 100 : 300) : 20;
  // Sliver's memory bounds its floor; at 10^5 it also bounds the simulator's heap (n · memory entries).
  const memory = n <= 1_000 ? 1_000 : n <= 10_000 ? 400 : 100;
  const network = new SimNetwork({ seed: SEED });
  const value = new Map<PeerId, number>();
  network.addNodes(n, (id, rng) => {
    const score = Math.round(rng.next() * 1000);
    value.set(id, score);
    const cyclon = new Cyclon({ viewSize: 20, shuffleLength: 8 });
    return [
      cyclon,
      new OrderedSlicing({ view: cyclon, attribute: 'cpuScore', value: () => score }),
      new Sliver({ view: cyclon, attribute: 'cpuScore', value: () => score, maxEntries: memory }),
    ];
  });
  bootstrapRandom(network, 20);
  const jkOf = (node: SimNode) => node.protocols[1] as OrderedSlicing;
  const sliverOf = (node: SimNode) => node.protocols[2] as Sliver;
  const snapshot = (estimate: (node: SimNode) => number) =>
    network.live().map((node) => ({ peer: node.id, value: value.get(node.id)!, estimate: estimate(node) }));
  const jk: Disorder[] = [];
  const sliver: Disorder[] = [];
  new CycleEngine(network).run(cycles, () => {
    jk.push(sliceDisorder(snapshot((node) => jkOf(node).rankEstimate()), BOUNDARIES));
    sliver.push(sliceDisorder(snapshot((node) => sliverOf(node).rankEstimate()), BOUNDARIES));
  });
  const jkFloor = sortedValuesFloor(snapshot((node) => jkOf(node).rankEstimate()), BOUNDARIES).wrongFraction;
  const held = inTrueOrder(network.live().map((node) => ({ peer: node.id, value: value.get(node.id)!, k: sliverOf(node).sampleSize() })));
  const sliverFloor = samplingFloor(held.map((h) => h.k), BOUNDARIES);
  const conditions = `N=${n}, Cyclon 20/8, slices [0.7, 0.9] by an integer score 0..1000 (ties by id), ${cycles} cycles, Sliver memory ${memory}, seed ${SEED}`;

  const rows: BenchRow[] = [];
  for (const c of [1, 5, 10, 20, 50, 100, 300].filter((c) => c <= cycles)) {
    rows.push(row({ figure: `ordered slicing: wrong-slice fraction after ${c} cycles`, value: jk[c - 1]!.wrongFraction, unit: 'fraction', reference: jkFloor, referenceSource: JK_SRC, n, conditions, better: 'lower' }));
    rows.push(row({ figure: `Sliver: wrong-slice fraction after ${c} cycles`, value: sliver[c - 1]!.wrongFraction, unit: 'fraction', reference: sliverFloor, referenceSource: SLIVER_SRC, n, conditions, better: 'lower' }));
  }
  rows.push(row({ figure: 'ordered slicing: mean |slice error| after last cycle', value: jk.at(-1)!.meanDistance, unit: 'slices', reference: null, referenceSource: '-', n, conditions, better: 'lower' }));
  rows.push(row({ figure: 'Sliver: mean |slice error| after last cycle', value: sliver.at(-1)!.meanDistance, unit: 'slices', reference: null, referenceSource: '-', n, conditions, better: 'lower' }));
  const reached = jk.findIndex((d) => d.wrongFraction <= jkFloor);
  rows.push(row({
    figure: 'ordered slicing: cycles to its floor', value: reached < 0 ? cycles + 1 : reached + 1, unit: 'cycles', reference: null, referenceSource: '-', n,
    conditions: `${conditions}${reached < 0 ? `; not reached within ${cycles} cycles` : ''}`, better: 'lower',
  }));
  const at = Math.min(10, cycles) - 1;
  rows.push(row({
    figure: `wrong-slice fraction after ${at + 1} cycles, ordered slicing / Sliver`, value: jk[at]!.wrongFraction / Math.max(sliver[at]!.wrongFraction, 1e-9), unit: 'x',
    reference: 1, referenceSource: 'BENCH.md: Sliver converges faster than random-swap ranking (parity = 1)', n, conditions, better: 'higher',
  }));
  return rows;
}

function tmanRows(n: number): BenchRow[] {
  const limit = 80;
  const network = new SimNetwork({ seed: SEED + 1 });
  const sliceOf = new Map<PeerId, string | null>();
  const scores: { id: PeerId; score: number }[] = [];
  network.addNodes(n, (id, rng) => {
    scores.push({ id, score: rng.next() });
    const cyclon = new Cyclon({ viewSize: 20, shuffleLength: 8 });
    return [cyclon, new TMan({ view: cyclon, slice: () => sliceOf.get(id) ?? null })];
  });
  scores.sort((a, b) => a.score - b.score);
  scores.forEach(({ id }, i) => sliceOf.set(id, i >= 0.9 * n ? 'top10' : i >= 0.7 * n ? 'next20' : null));
  bootstrapRandom(network, 20);
  const engine = new CycleEngine(network);
  const perfect = (slice: string): boolean => {
    const members = network.live().filter((node) => sliceOf.get(node.id) === slice);
    const ids = members.map((node) => node.id).sort();
    const at = new Map(ids.map((id, i) => [id, i]));
    return members.every((node) => {
      const i = at.get(node.id)!;
      const { pred, succ } = (node.protocols[1] as TMan).ringNeighbours();
      return succ === ids[(i + 1) % ids.length] && pred === ids[(i - 1 + ids.length) % ids.length];
    });
  };
  const cyclesToPerfect = (): Record<string, number> => {
    const done: Record<string, number> = {};
    for (let c = 1; c <= limit && Object.keys(done).length < 2; c++) {
      engine.run(1);
      for (const s of ['top10', 'next20']) if (done[s] === undefined && perfect(s)) done[s] = c;
    }
    return done;
  };
  const built = cyclesToPerfect();
  removeFraction(network, 0.5);
  const repaired = cyclesToPerfect();
  const log2n = Math.log2(n);
  const conditions = `N=${n}, Cyclon 20/8, T-Man c=20 m=10 psi=3 maxAge=15, membership by true slice, limit ${limit} cycles, seed ${SEED + 1}`;
  const rows: BenchRow[] = [];
  for (const [slice, share] of [['top10', 0.1], ['next20', 0.2]] as const) {
    const size = Math.round(n * share);
    rows.push(row({ figure: `T-Man: cycles to a perfect ${slice} ring (${size} members)`, value: built[slice] ?? limit + 1, unit: 'cycles', reference: log2n, referenceSource: TMAN_SRC, n, conditions: `${conditions}${built[slice] === undefined ? '; not reached' : ''}`, better: 'lower' }));
    rows.push(row({ figure: `T-Man: cycles to repair the ${slice} ring after a 50% crash`, value: repaired[slice] ?? limit + 1, unit: 'cycles', reference: log2n, referenceSource: TMAN_SRC, n, conditions: `${conditions}${repaired[slice] === undefined ? '; not reached' : ''}`, better: 'lower' }));
  }
  return rows;
}
