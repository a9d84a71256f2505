/**
 * `npm run bench -- transport`: the spine's transport figures, each beside its reference measured in the same
 * run — the app's framed, authenticated transport vs a raw RTCDataChannel between two Chromium contexts (and the
 * same in Node with node-datachannel), our signaling relay vs a minimal `ws` relay, and join times of 8 and 32
 * real Chromium peers vs the goals of issue #2 (first channel ≤ 1 s, full view ≤ 3 s).
 */
import { row, type BenchRow, type BenchSuite } from './table.ts';
import { edgeFigures, rawChannelRate } from './transport-node.ts';
import { minimalRelayRate, nepheleRelayRate } from './signaling-relay.ts';
import { browserJoinTimes, median, percentile, type JoinFigures } from './transport-browser.ts';
import { GOSSIP_VIEW_SIZE } from '../src/runtime/gossip-slots.ts';
import { browserThroughput } from './transport-browser-throughput.ts';

const MiB = 1024 * 1024;
const GOAL = 'goal of issue #2';

async function browserRows(quick: boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const total = (quick ? 16 : 64) * MiB;
  const sizes = [16 * 1024, 64 * 1024, 256 * 1024];
  const rounds = 2;
  const t = await browserThroughput(sizes, total, rounds);
  const conditions = `two Debian Chromium contexts, loopback, ${total / MiB} MiB per transfer, ordered reliable, bufferedAmount backpressure; both connections warmed up first, then ${rounds} rounds alternating raw-edge and edge-raw; value = median of the rounds`;
  for (const size of sizes) {
    const raw = t.raw.get(size)!;
    rows.push(row({ figure: `browser raw RTCDataChannel, ${size / 1024} KiB messages`, value: raw, unit: 'MB/s', reference: null, referenceSource: '', n: rounds, conditions, better: 'higher' }));
    rows.push(row({
      figure: `browser NetworkEdge frames, ${size / 1024} KiB`, value: t.edge.get(size)!, unit: 'MB/s', reference: raw,
      referenceSource: 'raw RTCDataChannel, same run (goal ≥ 0.9)', n: rounds, conditions, better: 'higher',
    }));
  }
  for (const peers of quick ? [8] : [8, 32]) rows.push(...joinRows(await browserJoinTimes(peers)));
  return rows;
}

/** Join rows: how many pages reached each milestone by the deadline, then median and p90 over those pages. */
function joinRows(join: JoinFigures): BenchRow[] {
  const { peers, fullView: full } = join;
  const c = `${peers} Debian Chromium contexts opened one after another (${join.openSeconds.toFixed(0)} s for all), gossip tick 1 s, loopback; ms since each page's navigation; full view = ${full} entries; deadline ${join.deadlineMs / 1000} s after the last page opened; snapshot marks have ~200 ms resolution`;
  const rows: BenchRow[] = [];
  const count = (what: string, reached: readonly number[]): void => {
    rows.push(row({ figure: `pages that reached ${what} (${peers} peers)`, value: reached.length, unit: 'pages', reference: peers, referenceSource: 'all pages', n: peers, conditions: c, better: 'higher' }));
  };
  const times = (what: string, reached: readonly number[], goal: number | null): void => {
    if (reached.length === 0) return;
    const ref = { reference: goal, referenceSource: goal === null ? '' : GOAL };
    rows.push(row({ figure: `page load → ${what}, median (${peers} peers)`, value: median(reached), unit: 'ms', ...ref, n: reached.length, conditions: c, better: 'lower' }));
    if (goal !== null) rows.push(row({ figure: `page load → ${what}, p90 (${peers} peers)`, value: percentile(reached, 90), unit: 'ms', ...ref, n: reached.length, conditions: c, better: 'lower' }));
  };
  times('joined', join.joinedMs, null);
  count('a first channel', join.firstLinkMs);
  times('first channel', join.firstLinkMs, 1000);
  if (full === GOSSIP_VIEW_SIZE) {
    count(`a view of ${full - 1} (full but the shuffle partner)`, join.nearlyFullMs);
    times(`view of ${full - 1}`, join.nearlyFullMs, 3000);
  }
  count(`a full view of ${full}`, join.viewFullMs);
  times('full view', join.viewFullMs, 3000);
  return rows;
}

async function nodeRows(quick: boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const total = (quick ? 16 : 64) * MiB;
  const raw = await rawChannelRate(64 * 1024, total);
  const edge = await edgeFigures([64 * 1024, MiB], total);
  const link = `node-datachannel 0.33, two peers in one Node process, loopback, ${total / MiB} MiB ordered reliable`;
  rows.push(row({ figure: 'Node raw data channel, 64 KiB messages', value: raw, unit: 'MB/s', reference: null, referenceSource: '', n: 2, conditions: link, better: 'higher' }));
  for (const [size, rate] of edge.rates) {
    rows.push(row({
      figure: `Node NetworkEdge frames, ${size / 1024} KiB${size > 256 * 1024 ? ' (fragmented)' : ''}`, value: rate, unit: 'MB/s',
      reference: raw, referenceSource: 'Node raw data channel, same run', n: 2, conditions: link, better: 'higher',
    }));
  }
  rows.push(row({ figure: 'Node edge link set-up (signal, ICE, handshake)', value: edge.linkMs, unit: 'ms', reference: 1000, referenceSource: GOAL, n: 2, conditions: 'loopback', better: 'lower' }));
  return rows;
}

async function relayRows(quick: boolean): Promise<BenchRow[]> {
  const pairs = quick ? 20 : 100;
  const relays = quick ? 20_000 : 100_000;
  const minimal = await minimalRelayRate(pairs, relays, 32);
  const ours = await nepheleRelayRate(pairs, relays, 32);
  const conditions = `${pairs * 2} clients, ${relays} signals of ~400 B, 32 in flight per client, load generator in the same process; per-connection rate limit lifted`;
  return [
    row({ figure: 'signal relays, minimal ws relay', value: minimal, unit: 'relays/s', reference: null, referenceSource: '', n: pairs * 2, conditions, better: 'higher' }),
    row({ figure: 'signal relays, Nephele server (validated, authenticated)', value: ours, unit: 'relays/s', reference: minimal, referenceSource: 'minimal ws relay, same run', n: pairs * 2, conditions, better: 'higher' }),
  ];
}

async function run(quick: boolean): Promise<BenchRow[]> {
  return [...(await browserRows(quick)), ...(await relayRows(quick))];
}

/**
 * node-datachannel finds no usable candidates in a network namespace that holds only loopback, so the Node rows
 * are their own suite, run outside it (bench/run-isolated.sh does so for `transport-node`).
 */
async function runNode(quick: boolean): Promise<BenchRow[]> {
  if (process.env.NEPHELE_NETNS === '1') {
    console.log('transport-node: skipped inside the loopback-only namespace; run `npm run bench -- transport-node`');
    return [];
  }
  return nodeRows(quick);
}

export const transportSuite: BenchSuite = { name: 'transport', run };
export const transportNodeSuite: BenchSuite = { name: 'transport-node', run: runNode };
