/**
 * Storage benchmark: Chord lookup path length against the paper's ½·log2 N (Stoica et al., IEEE/ACM ToN 2003,
 * §6.4) at N = 10^3, 10^4, 10^5 (quick: 10^3, 10^4), in the cycle-driven simulator; then the same after 30% of
 * the nodes fail at once and the ring re-stabilises. Successor pointers are seeded as completed joins would set
 * them; predecessors, successor lists and every finger are built by the protocol's own stabilize and
 * fix_fingers. Seeded: the same seed gives the same table.
 *
 * Then real Chromium peers (8; quick 4, bench/storage-browser.ts): lookup latency median and p99 against the
 * paper's ≈ 100 ms median on a LAN, and put/get throughput of a 64 MiB (quick 16 MiB) file against the raw
 * single-channel RTCDataChannel rate measured in the same run (bench/transport-browser-throughput.ts).
 */
import { createRng } from '../src/core/rng.ts';
import { Chord } from '../src/protocols/chord/chord.ts';
import { measureLookups, seedRingSuccessors, type LookupCheck } from '../src/protocols/chord/chord-sim.ts';
import { removeFraction } from '../src/sim/churn.ts';
import { CycleEngine } from '../src/sim/cycle-engine.ts';
import { SimNetwork } from '../src/sim/network.ts';
import { row, type BenchRow, type BenchSuite } from './table.ts';
import { browserStorageFigures } from './storage-browser.ts';
import { browserThroughput } from './transport-browser-throughput.ts';
import { median, percentile } from './transport-browser.ts';

const SEED = 2003;
const FAIL_FRACTION = 0.3;
const HEAL_CYCLES = 8;
const CHORD_SRC = 'Stoica et al., IEEE/ACM ToN 11(1) 2003, §6.4: mean lookup path ≈ ½·log2 N';

export const storageSuite: BenchSuite = {
  name: 'storage',
  async run(quick) {
    const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
    const simRows = sizes.flatMap((n) => chordRows(n, quick ? 2_000 : 5_000));
    return [...simRows, ...(await browserRows(quick))];
  },
};

const XU_SRC = 'Xu, Song, Zhang, Song, "A P2P Cloud Storage Platform": ≈ 100 ms median lookup on a LAN';
const MiB = 1024 * 1024;

async function browserRows(quick: boolean): Promise<BenchRow[]> {
  const peers = quick ? 4 : 8;
  const mib = quick ? 16 : 64;
  const f = await browserStorageFigures(peers, mib);
  const rawSizes = [64 * 1024, 256 * 1024];
  const t = await browserThroughput(rawSizes, mib * MiB);
  const raw = Math.max(...rawSizes.map((s) => t.raw.get(s) ?? 0));
  const put = f.bytes / f.putSeconds / 1e6;
  const get = f.bytes / f.getSeconds / 1e6;
  const lookups = `${peers} Debian Chromium contexts on loopback (app build, node tick 300 ms), ${f.lookupMs.length} lookups of random keys, timed inside each node`;
  const files = `${mib} MiB random file via the storage panel among ${peers} Chromium peers (1 MiB AES-GCM chunks, r = 3, owner copies to 2 successors); wall time from click to link/download shown; raw = best single RTCDataChannel rate (64/256 KiB messages) between two Chromium contexts in this run: ${raw.toFixed(1)} MB/s`;
  return [
    row({ figure: 'browser chord lookup latency, median', value: median(f.lookupMs), unit: 'ms', reference: 100, referenceSource: XU_SRC, n: peers, conditions: lookups, better: 'lower' }),
    row({ figure: 'browser chord lookup latency, p99', value: percentile(f.lookupMs, 99), unit: 'ms', reference: null, referenceSource: 'measured', n: peers, conditions: lookups, better: 'lower' }),
    row({ figure: `browser storage put, ${mib} MiB`, value: put, unit: 'MB/s', reference: raw, referenceSource: 'raw RTCDataChannel, same run (goal ≥ 0.8 per replica stream)', n: peers, conditions: files, better: 'higher' }),
    row({
      figure: `browser storage put, ${mib} MiB: replica bytes stored (r × file) per second`, value: (3 * f.bytes) / f.putSeconds / 1e6, unit: 'MB/s', reference: raw,
      referenceSource: 'raw RTCDataChannel, same run; every peer shares the bench machine\'s cores, so parallel replica streams compete for CPU', n: peers, conditions: files, better: 'higher',
    }),
    row({ figure: `browser storage get, ${mib} MiB`, value: get, unit: 'MB/s', reference: raw, referenceSource: 'raw RTCDataChannel, same run (goal ≥ 1.0)', n: peers, conditions: files, better: 'higher' }),
  ];
}

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
