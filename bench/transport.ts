/**
 * `npm run bench -- transport`: the spine's transport figures, each beside its reference measured in the same
 * run — framed, authenticated edge links vs a raw data channel (Node, node-datachannel), our signaling relay vs
 * a minimal `ws` relay, and join time of real Chromium peers vs the one-second goal of issue #2.
 */
import { row, type BenchRow, type BenchSuite } from './table.ts';
import { edgeFigures, rawChannelRate } from './transport-node.ts';
import { minimalRelayRate, nepheleRelayRate } from './signaling-relay.ts';
import { browserJoinTimes, median } from './transport-browser.ts';

const MiB = 1024 * 1024;

async function run(quick: boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const total = (quick ? 16 : 64) * MiB;
  const raw = await rawChannelRate(64 * 1024, total);
  const edge = await edgeFigures([64 * 1024, MiB], total);
  const link = `node-datachannel 0.33 in one Node process, loopback, ${total / MiB} MiB ordered reliable`;
  rows.push(row({ figure: 'raw data channel, 64 KiB messages', value: raw, unit: 'MB/s', reference: null, referenceSource: '', n: 1, conditions: link, better: 'higher' }));
  for (const [size, rate] of edge.rates) {
    rows.push(row({
      figure: `edge frames of ${size / 1024} KiB (framed, authenticated${size > 256 * 1024 ? ', fragmented' : ''})`, value: rate, unit: 'MB/s',
      reference: raw, referenceSource: 'raw data channel, same run', n: 1, conditions: link, better: 'higher',
    }));
  }
  rows.push(row({ figure: 'edge link set-up (join, signal, ICE, handshake)', value: edge.linkMs, unit: 'ms', reference: 1000, referenceSource: 'issue #2: join within about a second', n: 1, conditions: 'Node edges, loopback', better: 'lower' }));

  const pairs = quick ? 20 : 100;
  const relays = quick ? 20_000 : 100_000;
  const minimal = await minimalRelayRate(pairs, relays, 32);
  const ours = await nepheleRelayRate(pairs, relays, 32);
  const relayConditions = `${pairs * 2} clients, ${relays} signals of ~400 B, 32 in flight per client, load generator in the same process; rate limit lifted`;
  rows.push(row({ figure: 'signal relays, minimal ws relay', value: minimal, unit: 'relays/s', reference: null, referenceSource: '', n: pairs * 2, conditions: relayConditions, better: 'higher' }));
  rows.push(row({ figure: 'signal relays, Nephele server (validated, authenticated)', value: ours, unit: 'relays/s', reference: minimal, referenceSource: 'minimal ws relay, same run', n: pairs * 2, conditions: relayConditions, better: 'higher' }));

  const peers = quick ? 4 : 8;
  const join = await browserJoinTimes(peers);
  const browser = `Debian Chromium headless, one context per peer, opened one after another, loopback`;
  rows.push(row({ figure: 'browser page open → joined (median)', value: median(join.joinedMs), unit: 'ms', reference: 1000, referenceSource: 'issue #2: join within about a second', n: peers, conditions: browser, better: 'lower' }));
  rows.push(row({ figure: 'browser page open → first peer link (median)', value: median(join.linkedMs), unit: 'ms', reference: 1000, referenceSource: 'issue #2: join within about a second', n: peers - 1, conditions: browser, better: 'lower' }));
  return rows;
}

export const transportSuite: BenchSuite = { name: 'transport', run };
