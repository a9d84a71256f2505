/**
 * `npm run bench -- transport`: the spine's transport figures, each beside its reference measured in the same
 * run — the app's framed, authenticated transport vs a raw RTCDataChannel between two Chromium contexts (and the
 * same in Node with node-datachannel), our signaling relay vs a minimal `ws` relay, and join times of 8 and 32
 * real Chromium peers vs the goals of issue #2 (first channel ≤ 1 s, full view ≤ 3 s).
 * Each join comes with a per-stage table of where the pages' join time goes, and with 5 newcomers joining the
 * cloud afterwards, one at a time. `npm run bench -- transport --join [--quick] [--peers=N]` runs only the join
 * rows (8 and 32 peers; 8 with --quick; N with --peers); `… transport --idle [--peers=N]` only the idle-cloud CPU;
 * `… transport --frames [--peers=N]` only the frames an idle node sends per tick, by protocol (no browser);
 * `… transport --steady [--peers=N] [--hidden]` a cloud after its join (32 by default): load, CPU, link churn, frames
 * (--hidden: the pages report themselves hidden, so no portal renders).
 */
import { printTable, row, type BenchRow, type BenchSuite } from './table.ts';
import { edgeFigures, rawChannelRate } from './transport-node.ts';
import { minimalRelayRate, nepheleRelayRate } from './signaling-relay.ts';
import { browserIdleCpu, browserJoinTimes, median, percentile, type JoinFigures, type NewcomerFigures } from './transport-browser.ts';
import { GOSSIP_VIEW_SIZE } from '../src/runtime/gossip-slots.ts';
import { JOIN_STAGES } from '../src/net/join-marks.ts';
import { browserThroughput } from './transport-browser-throughput.ts';
import { idleFrames } from './idle-frames.ts';
import { browserSteadyState } from './transport-steady.ts';

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
  rows.push(...(await joinOnly(quick)));
  return rows;
}

/** Join rows: how many pages reached each milestone by the deadline, then median and p90 over those pages. */
function joinRows(join: JoinFigures): BenchRow[] {
  const { peers, fullView: full } = join;
  const c = `${peers} Debian Chromium contexts opened one after another (${join.openSeconds.toFixed(0)} s for all${join.hiddenCloud ? '; each reporting itself hidden once loaded, so no portal renders' : ''}), gossip tick 1 s, loopback; ms since each page's navigation, exact join marks (net/join-marks.ts: joined = the server's welcome, first channel = first authenticated link, view = the worker's Cyclon view); full view = ${full} entries; deadline ${join.deadlineMs / 1000} s after the last page opened`;
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

/**
 * Where the join time goes: per stage (net/join-marks.ts) the median ms since navigation over the pages that
 * passed it, and (in the figure) the median step from the stage before it on the same page. Stages a page passes
 * as answerer (offer-received) or never (answer-received, for a page only ever dialed) have fewer pages.
 */
function stageRows(join: Pick<JoinFigures, 'peers' | 'fullView' | 'pageStages'>, who = '', how = 'contexts opened one after another'): BenchRow[] {
  const { peers, fullView: full } = join;
  const order = [...JOIN_STAGES, `view:${full}`];
  const c = `${peers} Debian Chromium ${how}, loopback, gossip tick 1 s; first time each page's node passed the stage, ms since that page's navigation (worker stages re-marked on the page by epoch time); step = median over pages of (this stage − the latest earlier stage that page passed)`;
  const rows: BenchRow[] = [];
  for (const [i, stage] of order.entries()) {
    const at: number[] = [];
    const steps: number[] = [];
    for (const marks of join.pageStages) {
      const ms = marks.get(stage);
      if (ms === undefined) continue;
      at.push(ms);
      const before = order.slice(0, i).map((s) => marks.get(s)).filter((x): x is number => x !== undefined && x <= ms);
      if (before.length > 0) steps.push(ms - Math.max(...before));
    }
    if (at.length === 0) continue;
    const step = steps.length > 0 ? `, step ${median(steps).toFixed(0)} ms` : '';
    rows.push(row({ figure: `${who}join stage ${stage}${step} (${who ? 'cloud of ' : ''}${peers}${who ? '' : ' peers'})`, value: median(at), unit: 'ms', reference: null, referenceSource: '', n: at.length, conditions: c, better: 'lower' }));
  }
  return rows;
}

/** Newcomers joining the cloud after the arrival phase: first channel and full view vs the goals, and their stages. */
function newcomerRows(join: NewcomerFigures): BenchRow[] {
  const { cloudPages: peers, fullView: full } = join;
  const how = `contexts: after the arrival phase (rows above), ${join.pageStages.length} newcomers joined its ${peers} pages one at a time, each closed once full`;
  const c = `${peers} Debian Chromium ${how}, gossip tick 1 s, loopback; ms since the newcomer's navigation, exact marks (net/join-marks.ts); first channel = its first authenticated link, full view = ${full} entries; 20 s per newcomer`;
  const rows: BenchRow[] = [];
  for (const [what, stage, goal] of [['first channel', 'link-up', 1000], ['full view', `view:${full}`, 3000]] as const) {
    const reached = join.pageStages.flatMap((m) => (m.has(stage) ? [m.get(stage)!] : []));
    rows.push(row({ figure: `newcomers that reached a ${what} (cloud of ${peers})`, value: reached.length, unit: 'pages', reference: join.pageStages.length, referenceSource: 'all newcomers', n: join.pageStages.length, conditions: c, better: 'higher' }));
    if (reached.length > 0) rows.push(row({ figure: `newcomer: page load → ${what}, median (cloud of ${peers})`, value: median(reached), unit: 'ms', reference: goal, referenceSource: GOAL, n: reached.length, conditions: c, better: 'lower' }));
  }
  return [...rows, ...stageRows({ peers, fullView: full, pageStages: join.pageStages }, 'newcomer ', how)];
}

/** `--peers=N` (with --join) picks one cloud size instead of 8 and 32. */
function joinSizes(quick: boolean): number[] {
  const flag = process.argv.find((a) => a.startsWith('--peers='));
  const peers = flag ? Number(flag.slice('--peers='.length)) : NaN;
  if (Number.isInteger(peers) && peers >= 3) return [peers];
  return quick ? [8] : [8, 32];
}

async function joinOnly(quick: boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const peers of joinSizes(quick)) {
    const join = await browserJoinTimes(peers, 5, process.argv.includes('--hidden'));
    const block = [...joinRows(join), ...stageRows(join), ...newcomerRows(join.newcomers)];
    printTable(`transport join, ${peers} peers`, block);
    rows.push(...block);
  }
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

/**
 * `--idle [--peers=N]`: Chromium CPU of N idle app peers (8 by default) over 20 s, after 15 s to join: in all,
 * per peer, and by thread kind (a tab's main thread, its SharedWorker, WebRTC, raster, compositing, network).
 */
async function idleRows(): Promise<BenchRow[]> {
  const flag = process.argv.find((a) => a.startsWith('--peers='));
  const peers = flag ? Number(flag.slice('--peers='.length)) : 8;
  const idle = await browserIdleCpu(Number.isInteger(peers) && peers >= 2 ? peers : 8);
  const c = `${idle.peers} Debian Chromium contexts on the portal, gossip tick 1 s, loopback, 15 s to join (${idle.settled}/${idle.peers} views full), then ${idle.seconds.toFixed(0)} s idle; CPU of every Chromium thread from /proc (utime + stime), in cores`;
  const rows = [
    row({ figure: `idle cloud, Chromium CPU in all (${idle.peers} peers)`, value: idle.totalCores, unit: 'cores', reference: null, referenceSource: '', n: idle.peers, conditions: c, better: 'lower' }),
    row({ figure: `idle cloud, Chromium CPU per peer (${idle.peers} peers)`, value: idle.totalCores / idle.peers, unit: 'cores', reference: null, referenceSource: '', n: idle.peers, conditions: c, better: 'lower' }),
    row({ figure: `idle cloud, frames a node sends per second, median (${idle.peers} peers)`, value: idle.framesOutPerSecond, unit: 'frames/s', reference: null, referenceSource: '', n: idle.peers, conditions: c, better: 'lower' }),
    row({ figure: `idle cloud, links per node, median (${idle.peers} peers)`, value: idle.links, unit: 'links', reference: null, referenceSource: '', n: idle.peers, conditions: c, better: 'lower' }),
  ];
  for (const [thread, cores] of [...idle.byThread].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    rows.push(row({ figure: `idle cloud, ${thread} (${idle.peers} peers)`, value: cores, unit: 'cores', reference: null, referenceSource: '', n: idle.peers, conditions: c, better: 'lower' }));
  }
  return rows;
}

/**
 * `--steady [--peers=N]`: a cloud after its join (32 peers by default): load, Chromium CPU, view sizes, links, and
 * per node per second the edge's link churn, signals, relays and frames by protocol (transport-steady.ts).
 */
async function steadyRows(): Promise<BenchRow[]> {
  const flag = process.argv.find((a) => a.startsWith('--peers='));
  const asked = flag ? Number(flag.slice('--peers='.length)) : 32;
  const f = await browserSteadyState(Number.isInteger(asked) && asked >= 2 ? asked : 32, process.argv.includes('--hidden'));
  const { peers } = f;
  const c = `${peers} Debian Chromium contexts on the portal${f.hidden ? ', each reporting itself hidden once loaded (no snapshots, no portal renders; views read after showing them again)' : ''} (${f.openSeconds.toFixed(0)} s to open), gossip tick 1 s, loopback, then until all views were full or 40 s (${f.settleSeconds.toFixed(0)} s; ${f.settled}/${peers} full), then ${f.seconds.toFixed(0)} s sampled every 5 s; rates per node per second from the edge's counts (net/join-marks.ts countEdge), CPU from /proc`;
  const r = (figure: string, value: number, unit: string): BenchRow => row({ figure: `steady cloud${f.hidden ? ' (hidden pages)' : ''}, ${figure} (${peers} peers)`, value, unit, reference: null, referenceSource: '', n: peers, conditions: c, better: 'lower' });
  console.log(`steady: load ${f.load.map((x) => x.toFixed(1)).join(' ')}; Chromium cores per interval ${f.coresPerInterval.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`steady: view median/min ${f.views.map((v) => `${v.median}/${v.min}`).join(' ')}; links median/min ${f.links.map((v) => `${v.median}/${v.min}`).join(' ')}`);
  const rows = [
    r('load average (1 min) at the start', f.load[0]!, 'load'),
    r('load average (1 min) at the end', f.load[f.load.length - 1]!, 'load'),
    r('Chromium CPU in all', [...f.byThread.values()].reduce((a, b) => a + b, 0), 'cores'),
    r('view size at the end, median', f.views[f.views.length - 1]!.median, 'peers'),
    r('view size at the end, minimum', f.views[f.views.length - 1]!.min, 'peers'),
    r('links per node at the end, median', f.links[f.links.length - 1]!.median, 'links'),
  ];
  const rates = [...f.rates].filter(([, v]) => v > 0).sort((a, b) => a[0].localeCompare(b[0]));
  for (const [name, v] of rates) rows.push(r(`${name} per node`, v, '/s'));
  for (const [thread, cores] of [...f.byThread].sort((a, b) => b[1] - a[1]).slice(0, 10)) rows.push(r(thread, cores, 'cores'));
  return rows;
}

/** `--frames [--peers=N]`: frames an idle node sends per tick, by protocol and by message type (idle-frames.ts). */
async function frameRows(): Promise<BenchRow[]> {
  const flag = process.argv.find((a) => a.startsWith('--peers='));
  const peers = flag ? Number(flag.slice('--peers='.length)) : 8;
  const f = await idleFrames(Number.isInteger(peers) && peers >= 2 ? peers : 8);
  const c = `${f.peers} NodeCores (storage, compute, cloud services) over the in-memory test network, 100 ms ticks, 60 ticks to settle, then frames counted for ${f.nodeTicks.toFixed(0)} ticks (run by each node); per node per tick`;
  const rows = [row({ figure: `idle node, frames sent per tick (${f.peers} peers)`, value: f.total, unit: 'frames', reference: null, referenceSource: '', n: f.peers, conditions: c, better: 'lower' })];
  for (const [p, v] of f.byProtocol) rows.push(row({ figure: `idle node, ${p} frames per tick`, value: v, unit: 'frames', reference: null, referenceSource: '', n: f.peers, conditions: c, better: 'lower' }));
  for (const [m, v] of f.byMessage) rows.push(row({ figure: `idle node, ${m} per tick`, value: v, unit: 'frames', reference: null, referenceSource: '', n: f.peers, conditions: c, better: 'lower' }));
  return rows;
}

async function run(quick: boolean): Promise<BenchRow[]> {
  if (process.argv.includes('--frames')) return frameRows();
  if (process.argv.includes('--steady')) return steadyRows();
  if (process.argv.includes('--idle')) return idleRows();
  if (process.argv.includes('--join')) return joinOnly(quick);
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
