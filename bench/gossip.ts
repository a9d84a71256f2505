/**
 * Gossip benchmark: Cyclon (Voulgaris, Gavidia, van Steen 2005) and push-pull averaging (Jelasity, Montresor,
 * Babaoglu 2005) in the cycle-driven simulator at N = 10^3, 10^4, 10^5 (quick: 10^3, 10^4), against the figures
 * in BENCH.md and a plain random 20-out graph built in the same run. Seeded: the same seed gives the same table.
 * NEPHELE_GOSSIP_SIZES (a comma list, e.g. `1000000`) replaces the sizes of both suites: 10^6 needs a bigger heap,
 * `NODE_OPTIONS=--max-old-space-size=12288`.
 */
import type { PeerId } from '../src/core/ids.ts';
import { createRng, type Rng } from '../src/core/rng.ts';
import { Cyclon } from '../src/protocols/peer-sampling/cyclon.ts';
import { SizeEstimation } from '../src/protocols/aggregation/size-estimation.ts';
import type { View } from '../src/protocols/peer-sampling/view.ts';
import { SimNetwork } from '../src/sim/network.ts';
import { CycleEngine } from '../src/sim/cycle-engine.ts';
import { bootstrapRandom, removeFraction } from '../src/sim/churn.ts';
import { uniformView } from '../src/sim/uniform-view.ts';
import {
  inDegreeStats, largestWeakComponent, largestStrongComponent, variance, viewGraph, withoutVertices, type ViewGraph,
} from '../src/sim/metrics.ts';
import { row, type BenchRow, type BenchSuite } from './table.ts';

const SEED = 2005;
const VIEW = 20;
const SHUFFLE = 8;
const CYCLES = 60;
const HEAL_CYCLES = 20;
const AVERAGING_CYCLES = 10;
/** Expected variance reduction per cycle of push-pull averaging with uniformly random partners. */
const RANDOM_PAIRING_FACTOR = 1 / (2 * Math.sqrt(Math.E));

/** The PeerSim figures are for N = 10^4 and 5·10^4; at 10^3 duplicates in merges widen the spread (measured, not a bug). */
const CYCLON_SRC = 'BENCH.md: faithful Cyclon in PeerSim, view 20, shuffle 8, 60 cycles, N = 10^4 and 5·10^4';
const AGG_SRC = 'Jelasity, Montresor, Babaoglu, ACM TOCS 23(3) 2005: 1/(2·sqrt(e)) with random partners';

/** The sizes to run: NEPHELE_GOSSIP_SIZES if given, else 10^3 and 10^4, and 10^5 unless quick. */
function sizesFor(quick: boolean): number[] {
  const given = process.env['NEPHELE_GOSSIP_SIZES'];
  if (!given) return quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
  const sizes = given.split(',').map((v) => Number(v.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 10)) throw new Error(`E_BENCH_SIZES: NEPHELE_GOSSIP_SIZES must list integers >= 10, not "${given}"`);
  return sizes;
}

export const gossipSuite: BenchSuite = {
  name: 'gossip',
  run(quick) {
    const sizes = sizesFor(quick);
    return sizes.flatMap((n) => [...cyclonRows(n), ...uniformAveragingRows(n)]);
  },
};

/** The simulator speed and memory rows alone (the first 60 cycles of the gossip suite's Cyclon run, same seed). */
export const gossipSpeedSuite: BenchSuite = {
  name: 'gossip-speed',
  run(quick) {
    const sizes = sizesFor(quick);
    return sizes.flatMap((n) => speedRows(convergedCyclon(n)));
  },
};

interface CyclonRun {
  readonly n: number;
  readonly network: SimNetwork;
  readonly engine: CycleEngine;
  readonly cyclons: ReadonlyMap<PeerId, Cyclon>;
  readonly averagers: ReadonlyMap<PeerId, SizeEstimation>;
  /** Opens averaging over Cyclon's view (closed during the first CYCLES cycles). */
  readonly averaging: { open: boolean };
  /** Wall and process CPU time (all threads, so GC helpers count) of the first CYCLES cycles, and heap growth per node over building and running them. */
  readonly cyclonMs: number;
  readonly cyclonCpuMs: number;
  readonly bytesPerNode: number;
}

/** N nodes of Cyclon + idle averaging, bootstrapped as a random 20-out graph and run for CYCLES cycles, timed. */
function convergedCyclon(n: number): CyclonRun {
  const cyclons = new Map<PeerId, Cyclon>();
  const averagers = new Map<PeerId, SizeEstimation>();
  const averaging = { open: false };
  const heapBefore = process.memoryUsage().heapUsed;
  const network = new SimNetwork({ seed: SEED });
  network.addNodes(n, (id, rng) => {
    const cyclon = new Cyclon({ viewSize: VIEW, shuffleLength: SHUFFLE });
    // Averaging waits (no partners) until Cyclon has converged, then runs over Cyclon's view.
    const gated = new GatedView(cyclon, averaging);
    const x = rng.next();
    const avg = new SizeEstimation({ view: gated, epochCycles: 1_000_000, localValues: () => new Map([['x', x]]) });
    cyclons.set(id, cyclon);
    averagers.set(id, avg);
    return [cyclon, avg];
  });
  bootstrapRandom(network, VIEW);
  const engine = new CycleEngine(network);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  engine.run(CYCLES);
  const cpu = process.cpuUsage(cpuBefore);
  const cyclonMs = performance.now() - started;
  const cyclonCpuMs = (cpu.user + cpu.system) / 1000;
  const bytesPerNode = (process.memoryUsage().heapUsed - heapBefore) / n;
  return { n, network, engine, cyclons, averagers, averaging, cyclonMs, cyclonCpuMs, bytesPerNode };
}

function speedRows({ n, cyclonMs, cyclonCpuMs, bytesPerNode }: CyclonRun): BenchRow[] {
  const cond = `N=${n}, view ${VIEW}, shuffle ${SHUFFLE}, ${CYCLES} cycles from a random ${VIEW}-out start, seed ${SEED}`;
  return [
    row({
      figure: 'simulator speed, Cyclon + idle averaging',
      value: (n * CYCLES) / (cyclonMs / 1000),
      unit: 'node-cycles/s',
      reference: (100_000 * 100) / 60,
      referenceSource: 'issue #3 goal: 10^5 nodes × 100 cycles in under a minute on this 2-core machine',
      n,
      better: 'higher',
      conditions: `${cond}; one Node.js thread; ${(cyclonMs / 1000).toFixed(1)} s wall, ${(cyclonCpuMs / 1000).toFixed(1)} s CPU `
        + `(${Math.round((n * CYCLES) / (cyclonCpuMs / 1000))} node-cycles per CPU second, GC threads included)`,
    }),
    row({
      figure: 'simulator memory per node (heap growth / N)',
      value: bytesPerNode,
      unit: 'bytes/node',
      reference: null,
      referenceSource: 'no published figure; heap growth over building and running the network (no forced GC, so approximate)',
      n,
      better: 'lower',
      conditions: cond,
    }),
  ];
}

/** Cyclon for 60 cycles, then averaging over its view, then a 50% crash and 20 cycles of healing. */
function cyclonRows(n: number): BenchRow[] {
  const run = convergedCyclon(n);
  const { network, engine, cyclons, averagers, averaging, cyclonMs } = run;
  const graph = (): ViewGraph => viewGraph(network, (node) => cyclons.get(node.id)!.view().map((e) => e.peer));
  const g = graph();
  const deg = inDegreeStats(g);
  const random = inDegreeStats(randomOutGraph(n, VIEW, SEED));
  const cond = `N=${n}, view ${VIEW}, shuffle ${SHUFFLE}, ${CYCLES} cycles from a random ${VIEW}-out start, seed ${SEED}`;
  const rows: BenchRow[] = [
    row({
      figure: 'cyclon in-degree sd',
      value: deg.sd,
      unit: 'links',
      reference: 1.45,
      referenceSource: `${CYCLON_SRC}: sd ≈ 1.4–1.5`,
      n,
      better: 'lower',
      conditions: `${cond}; mean ${deg.mean.toFixed(2)}, min ${deg.min}, max ${deg.max}; ${(cyclonMs / 1000).toFixed(1)} s wall time`,
    }),
    row({
      figure: 'cyclon in-degree sd vs random 20-out graph',
      value: deg.sd,
      unit: 'links',
      reference: random.sd,
      referenceSource: 'random 20-out graph built in this run (same N, same seed)',
      n,
      better: 'lower',
      conditions: cond,
    }),
    row({
      figure: 'random 20-out graph in-degree sd',
      value: random.sd,
      unit: 'links',
      reference: 4.5,
      referenceSource: 'BENCH.md: a plain random 20-out graph has sd ≈ 4.5',
      n,
      better: 'lower',
      conditions: `N=${n}, each node links to 20 distinct uniform others`,
    }),
    row({
      figure: 'cyclon strongly connected (60 cycles)',
      value: largestStrongComponent(g) / n,
      unit: 'fraction in largest SCC',
      reference: 1,
      referenceSource: 'Cyclon paper: the overlay stays connected',
      n,
      better: 'higher',
      conditions: cond,
    }),
  ];
  rows.push(...speedRows(run));
  for (const fraction of [0.5, 0.7]) {
    const victims = new Set(network.rng.sample(g.ids, Math.round(n * fraction)));
    const rest = withoutVertices(g, victims);
    const survivors = n - victims.size;
    const published = fraction === 0.5;
    rows.push(row({
      figure: `largest cluster right after removing ${fraction * 100}%`,
      value: largestWeakComponent(rest) / survivors,
      unit: 'fraction of survivors',
      reference: published ? 1 : null,
      referenceSource: published ? `${CYCLON_SRC}: still connected after a random half is removed` : 'no published figure; measured only',
      n,
      better: 'higher',
      conditions: `${cond}; ${victims.size} random nodes crash at once, no healing cycles`,
    }));
    if (fraction === 0.5) {
      rows.push(row({
        figure: 'in-degree sd right after removing 50%',
        value: inDegreeStats(rest).sd,
        unit: 'links',
        reference: 2.4,
        referenceSource: `${CYCLON_SRC}: in-degree then 10, sd ≈ 2.4`,
        n,
        better: 'lower',
        conditions: `${cond}; mean ${inDegreeStats(rest).mean.toFixed(2)}`,
      }));
    }
  }

  // Averaging over the converged Cyclon view (Cyclon keeps shuffling meanwhile, as in a deployment).
  const values = (): number[] => network.live().map((node) => averagers.get(node.id)!.currentValues().get('x') ?? Number.NaN);
  const v0 = variance(values());
  averaging.open = true;
  engine.run(AVERAGING_CYCLES);
  const factor = (variance(values()) / v0) ** (1 / AVERAGING_CYCLES);
  rows.push(row({
    figure: 'averaging variance reduction per cycle, over Cyclon',
    value: factor,
    unit: 'var ratio/cycle',
    reference: RANDOM_PAIRING_FACTOR,
    referenceSource: `${AGG_SRC}; BENCH.md PeerSim over Newscast cache 20: 0.35–0.36`,
    n,
    better: 'lower',
    conditions: `N=${n}, values uniform in [0,1), geometric mean over ${AVERAGING_CYCLES} cycles, `
      + 'partner = uniform pick from the Cyclon view',
  }));

  removeFraction(network, 0.5);
  engine.run(HEAL_CYCLES);
  const healed = graph();
  const live = network.live().length;
  rows.push(row({
    figure: `largest cluster ${HEAL_CYCLES} cycles after removing 50%`,
    value: largestWeakComponent(healed) / live,
    unit: 'fraction of survivors',
    reference: 1,
    referenceSource: `${CYCLON_SRC}: still connected`,
    n,
    better: 'higher',
    conditions: `${cond}; then ${AVERAGING_CYCLES} averaging cycles, crash of 50%, ${HEAL_CYCLES} cycles; `
      + `dead links left ${healed.deadLinks}`,
  }));
  return rows;
}

/** Push-pull averaging with a uniformly random partner each cycle: the paper's analytical setting. */
function uniformAveragingRows(n: number): BenchRow[] {
  const network = new SimNetwork({ seed: SEED + 1 });
  const view = uniformView(network);
  const averagers: SizeEstimation[] = [];
  network.addNodes(n, (_id, rng) => {
    const x = rng.next();
    const avg = new SizeEstimation({ view, epochCycles: 1_000_000, localValues: () => new Map([['x', x]]) });
    averagers.push(avg);
    return [avg];
  });
  const engine = new CycleEngine(network);
  // Before the first tick no node has loaded its value; the initial variance is that of the local values.
  const initial = network.live().map((_node, i) => averagers[i]!);
  engine.run(1);
  const afterOne = variance(initial.map((a) => a.currentValues().get('x')!));
  engine.run(AVERAGING_CYCLES - 1);
  const afterAll = variance(initial.map((a) => a.currentValues().get('x')!));
  const factor = (afterAll / afterOne) ** (1 / (AVERAGING_CYCLES - 1));
  return [
    row({
      figure: 'averaging variance reduction per cycle, uniform random partner',
      value: factor,
      unit: 'var ratio/cycle',
      reference: RANDOM_PAIRING_FACTOR,
      referenceSource: AGG_SRC,
      n,
      better: 'lower',
      conditions: `N=${n}, values uniform in [0,1), geometric mean over cycles 2..${AVERAGING_CYCLES}, seed ${SEED + 1}`,
    }),
  ];
}

/**
 * A view that lends no peers until its gate opens. A class rather than a closure per node: the simulator calls it
 * every tick of every node, and an object holding two fields is one memory access where a closure is three.
 */
class GatedView implements View {
  constructor(
    private readonly inner: View,
    private readonly gate: { readonly open: boolean },
  ) {}

  sample(n: number, rng: Rng): PeerId[] {
    return this.gate.open ? this.inner.sample(n, rng) : [];
  }
}

/** Each vertex links to `k` distinct uniformly random others. */
function randomOutGraph(n: number, k: number, seed: number): ViewGraph {
  const rng = createRng(seed);
  const out = Array.from({ length: n }, (_, i) => {
    const picked = new Set<number>();
    while (picked.size < Math.min(k, n - 1)) {
      const j = rng.int(n);
      if (j !== i) picked.add(j);
    }
    return Int32Array.from(picked);
  });
  return { ids: Array.from({ length: n }, (_, i) => String(i)), out, deadLinks: 0 };
}
