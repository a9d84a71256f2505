/**
 * The storage ring as the browser bench forms it (issue #4 at 32 peers), simulated: peers join one at a time about
 * 0.75 s apart, tick every 300 ms (± 10%), run Chord with the storage ring's options (storage-ring.ts: reply
 * timeout STABILIZE_REPLY_TICKS, adaptive rounds up to ROUND_INTERVAL_CAP, r = 8, joining through the view), and
 * talk over browser-like links (chord-browser-links.ts): a message to an unlinked peer waits for a dial, dials
 * fail now and then and are then reported as the peer being down, and each node keeps at most 24 links.
 * Every node must reach its 3 true successors, and the whole ring its true successors and predecessors.
 */
import { describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import type { Effect } from '../../src/core/protocol.ts';
import { createRng } from '../../src/core/rng.ts';
import { EventEngine } from '../../src/sim/event-engine.ts';
import { SimNetwork, type SimNode } from '../../src/sim/network.ts';
import { addNodes } from '../../src/sim/churn.ts';
import { uniformView } from '../../src/sim/uniform-view.ts';
import { Chord, type ChordOptions } from '../../src/protocols/chord/chord.ts';
import { chordOf } from '../../src/protocols/chord/chord-sim.ts';
import { SortedRing } from '../../src/protocols/chord/sorted-ring.ts';
import { MAX_LOOKUP_TIMEOUT_TICKS, MAX_STABILIZE_REPLY_TICKS, ROUND_INTERVAL_CAP, STABILIZE_REPLY_TICKS } from '../../src/runtime/services/storage-ring.ts';
import { BrowserLinks, type BrowserLinkOptions } from './chord-browser-links.ts';

const TICK_MS = 300;
const JOIN_GAP_MS = 750;
const STEP_MS = 50;

export interface JoinRun {
  /** Per node, ms from its join until its first 3 successors were the true ones (NaN: never). */
  readonly reached3: number[];
  /** ms after the last join until every node had its true 3 successors and predecessor (NaN: never). */
  readonly ringCorrectAfterMs: number;
  /** Nodes whose first 3 successors are not the true ones at the end. */
  readonly wrongAtEnd: number;
  readonly links: BrowserLinks;
  readonly network: SimNetwork;
}

export function joinRun(peers: number, seed: number, linkOptions: Partial<BrowserLinkOptions> = {}, settleMs = 120_000, chordOptions: ChordOptions = {}): JoinRun {
  let now = 0;
  const links = new BrowserLinks(createRng(seed + 1), {
    cap: 24, dialMinMs: 500, dialMaxMs: 4_000, dialFailP: 0.1, failAfterMs: 15_000, latencyMs: [2, 40], ...linkOptions,
  }, () => now);
  const network = new SimNetwork({ seed, transport: links });
  const engine = new EventEngine(network, { tickMs: TICK_MS, jitter: 0.1 });
  const view = uniformView(network);
  const factory = (id: PeerId) => [new Chord(id, { view, replyTimeoutTicks: STABILIZE_REPLY_TICKS, maxReplyTimeoutTicks: MAX_STABILIZE_REPLY_TICKS, maxLookupTimeoutTicks: MAX_LOOKUP_TIMEOUT_TICKS,
    maxRoundIntervalTicks: ROUND_INTERVAL_CAP, ...chordOptions })];
  const joinedAt = new Map<PeerId, number>();
  const reached = new Map<PeerId, number>();
  let correctSince = NaN;
  const carry = (node: SimNode, effects: readonly Effect<unknown>[]): void => {
    for (const e of effects) {
      if (e.kind !== 'send' || e.to === node.id) continue;
      const env = { from: node.id, to: e.to, protocol: 'chord', msg: e.msg };
      const delay = links.route(env);
      if (delay !== null) network.scheduler(env, delay);
    }
  };
  const end = (peers - 1) * JOIN_GAP_MS + settleMs;
  while (now <= end) {
    if (joinedAt.size < peers && now >= joinedAt.size * JOIN_GAP_MS) {
      const [node] = addNodes(network, 1, factory, 8);
      joinedAt.set(node!.id, now);
    }
    engine.runUntil(now);
    for (const d of links.takeDue(now)) {
      const node = network.node(d.node)!;
      carry(node, chordOf(node).onPeerDown({ self: node.id, now, rng: node.rng }, d.peer));
    }
    if (now % TICK_MS === 0) {
      const live = network.live();
      for (const node of live) links.touch(node.id, live[network.rng.int(live.length)]!.id);
    }
    const truth = new SortedRing(network.live().map((n) => n.id));
    let allRight = joinedAt.size === peers;
    for (const node of network.live()) {
      const chord = chordOf(node);
      const want = truth.successorsOf(truth.next(node.id) ? BigInt('0x' + truth.next(node.id)!) : 0n, Math.min(3, truth.size - 1));
      const right = chord.successors.ids().slice(0, want.length).join() === want.join() && want.length === Math.min(3, peers - 1);
      if (right && !reached.has(node.id)) reached.set(node.id, now - joinedAt.get(node.id)!);
      const predRight = chord.predecessor() === truth.all()[(truth.all().indexOf(node.id) + truth.size - 1) % truth.size];
      if (!right || !predRight) allRight = false;
    }
    if (allRight && Number.isNaN(correctSince)) correctSince = now;
    if (!allRight) correctSince = NaN;
    now += STEP_MS;
  }
  const lastJoin = (peers - 1) * JOIN_GAP_MS;
  const truth = new SortedRing(network.live().map((n) => n.id));
  const wrongAtEnd = network.live().filter((n) => {
    const want = truth.successorsOf(BigInt('0x' + truth.next(n.id)!), 3);
    return chordOf(n).successors.ids().slice(0, 3).join() !== want.join();
  }).length;
  return {
    reached3: [...joinedAt.keys()].map((id) => reached.get(id) ?? NaN),
    ringCorrectAfterMs: correctSince - lastJoin,
    wrongAtEnd,
    links,
    network,
  };
}

function summary(run: JoinRun): string {
  const r = [...run.reached3].sort((a, b) => a - b);
  const pct = (p: number): number => r[Math.min(r.length - 1, Math.floor((r.length - 1) * p))]!;
  return `reached 3 true successors: median ${pct(0.5)} ms, max ${pct(1)} ms after joining (never: ${run.reached3.filter(Number.isNaN).length}); `
    + `ring correct ${run.ringCorrectAfterMs} ms after the last join; wrong at end ${run.wrongAtEnd}; links ${JSON.stringify(run.links.stats)}`;
}

describe('Chord ring formation with browser-like links (32 peers joining 0.75 s apart)', () => {
  // Before the merge check counted ticks since the last check (chord.ts checkForOtherRing), seed 1 left a ring of
  // two peers that had joined through each other apart for good: their adaptive rounds fell on odd ticks, which
  // never met a multiple of 10.
  it('links that need dialing and a link cap: every node reaches its 3 true successors, the ring is correct within 30 s of the last join', () => {
    for (const seed of [1, 2, 3, 4]) {
      const run = joinRun(32, seed, { dialFailP: 0 });
      console.log(`chord 32-peer join, seed ${seed}, no failed dials: ${summary(run)}`);
      expect(run.reached3.filter(Number.isNaN).length).toBe(0);
      expect(run.wrongAtEnd).toBe(0);
      expect(run.ringCorrectAfterMs).toBeLessThan(30_000);
    }
  });

  it('with 10% of dials failing (reported as the peer down 15 s later, as the edge does): every node reaches its 3 true successors', () => {
    for (const seed of [1, 2, 3, 4]) {
      const run = joinRun(32, seed, {}, 180_000);
      console.log(`chord 32-peer join, seed ${seed}, 10% failed dials: ${summary(run)}`);
      expect(run.reached3.filter(Number.isNaN).length).toBe(0);
    }
  });

  // What the 32-peer browser bench met at load average 40: round trips of seconds. With fixed timeouts (3 s for a
  // reply, 1.2 s for a lookup) every node dropped its live successors one after another and its join lookups were
  // answered after they had been given up on, so all 32 ended with 0–2 successors; the timeouts now grow.
  it('messages taking 0.5–2.5 s each way (round trips above the base timeouts): every node still gets its 3 true successors and a full list', () => {
    for (const seed of [1, 2]) {
      const run = joinRun(32, seed, { latencyMs: [500, 2500] });
      console.log(`chord 32-peer join, seed ${seed}, slow peers: ${summary(run)}`);
      expect(run.reached3.filter(Number.isNaN).length).toBe(0);
      expect(run.network.live().filter((n) => chordOf(n).successors.size < 8).length).toBeLessThanOrEqual(1);
    }
  });
});
