/**
 * Benchmark entry point: `npm run bench -- [suite] [--quick]`. Without a suite name every registered suite runs.
 * Adding a suite is one line in SUITES.
 */
import { printTable, writeResults, type BenchSuite } from './table.ts';
import { gossipSpeedSuite, gossipSuite } from './gossip.ts';
import { transportNodeSuite, transportSuite } from './transport.ts';
import { schedulerSuite } from './scheduler.ts';
import { storageSuite } from './storage.ts';
import { x86Suite } from './x86.ts';
import { slicingSuite } from './slicing.ts';
import { computeSuite } from './compute.ts';

const SUITES: readonly BenchSuite[] = [
  gossipSuite,
  gossipSpeedSuite,
  transportSuite,
  transportNodeSuite,
  schedulerSuite,
  storageSuite,
  x86Suite,
  slicingSuite,
  computeSuite,
];
/** What a bare `npm run bench` runs: gossip-speed is a subset of gossip's rows, for timing them alone. */
const DEFAULT_SUITES = SUITES.filter((s) => s !== gossipSpeedSuite);

async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`E_UNKNOWN_SUITE: ${unknown.join(', ')}; known suites: ${SUITES.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const chosen = names.length === 0 ? DEFAULT_SUITES : SUITES.filter((s) => names.includes(s.name));
  for (const suite of chosen) {
    const started = performance.now();
    const rows = await suite.run(quick);
    printTable(suite.name, rows);
    const path = writeResults(suite.name, rows);
    console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s${quick ? ', quick' : ''}; written to ${path})`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
