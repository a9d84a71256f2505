/**
 * Storage benchmark: Chord lookup path length against the paper's ½·log2 N (Stoica et al., IEEE/ACM ToN 2003,
 * §6.4) at N = 10^3, 10^4, 10^5 (quick: 10^3, 10^4), in the cycle-driven simulator; then the same after 30% of
 * the nodes fail at once and the ring re-stabilises. Successor pointers are seeded as completed joins would set
 * them; predecessors, successor lists and every finger are built by the protocol's own stabilize and
 * fix_fingers. Seeded: the same seed gives the same table.
 */
import { createRng } from '../src/core/rng.ts';
import { Chord } from '../src/protocols/chord/chord.ts';
import { measureLookups, seedRingSuccessors, type LookupCheck } from '../src/protocols/chord/chord-sim.ts';
import { removeFraction } from '../src/sim/churn.ts';
import { CycleEngine } from '../src/sim/cycle-engine.ts';
import { SimNetwork } from '../src/sim/network.ts';
import { row, type BenchRow, type BenchSuite } from './table.ts';

const SEED = 2003;
const FAIL_FRACTION = 0.3;
const HEAL_CYCLES = 8;
const CHORD_SRC = 'Stoica et al., IEEE/ACM ToN 11(1) 2003, §6.4: mean lookup path ≈ ½·log2 N';

export const storageSuite: BenchSuite = {
  name: 'storage',
  run(quick) {
    const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
    return sizes.flatMap((n) => chordRows(n, quick ? 2_000 : 5_000));
  },
};

function chordRows(n: number, lookups: number): BenchRow[] {
  const network = new SimNetwork({ seed: SEED });
  const engine = new CycleEngine(network);
  network.addNodes(n, (id) => [new Chord(id)]);
  seedRingSuccessors(network);
  // About log2 N distinct fingers, one fix_fingers lookup per cycle, and r = 8 for the successor lists.
  const cycles = Math.ceil(Math.log2(n)) + 8;
  const started = performance.now();
  engine.run(cycles);
  const buildSeconds = (performance.now() - started) / 1000;
  const rng = createRng(SEED + n);
  const stable = measureLookups(network, () => engine.drain(), lookups, rng, `s${n}`);
  removeFraction(network, FAIL_FRACTION);
  engine.run(HEAL_CYCLES);
  const survivors = network.live().length;
  const healed = measureLookups(network, () => engine.drain(), lookups, rng, `h${n}`);
  const base = `hops = forwardings until the key's predecessor answers (the answer to the origin not counted); cycle engine, seed ${SEED}, r = 8, ${cycles} cycles from seeded successors (built in ${buildSeconds.toFixed(1)} s), ${lookups} lookups of random keys from random nodes`;
  const afterBase = `hops as above; ${Math.round(FAIL_FRACTION * 100)}% of ${n} nodes failed at once, ${HEAL_CYCLES} cycles of re-stabilisation, ${lookups} lookups`;
  return [
    ...pathRows(n, stable, base, 'stable'),
    ...pathRows(survivors, healed, afterBase, 'after 30% failure'),
  ];
}

function pathRows(n: number, check: LookupCheck, conditions: string, phase: string): BenchRow[] {
  const half = 0.5 * Math.log2(n);
  const p99 = check.hops[Math.min(check.hops.length - 1, Math.floor(check.hops.length * 0.99))] ?? 0;
  return [
    row({ figure: `chord mean lookup hops (${phase})`, value: check.meanHops, unit: 'hops', reference: half, referenceSource: CHORD_SRC, n, conditions, better: 'lower' }),
    row({ figure: `chord p99 lookup hops (${phase})`, value: p99, unit: 'hops', reference: null, referenceSource: 'measured', n, conditions, better: 'lower' }),
    row({
      figure: `chord lookups answered with the true successor (${phase})`, value: check.correct / check.total, unit: 'fraction',
      reference: 1, referenceSource: 'every lookup must find the key\'s successor on the live ring', n, conditions, better: 'higher',
    }),
  ];
}
