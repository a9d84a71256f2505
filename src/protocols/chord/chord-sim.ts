/**
 * Glue between Chord and the simulator (src/sim), for the Chord simulation tests and the storage bench: find a
 * node's Chord, seed a large ring's successor pointers in bulk through Chord's own join step, and start a lookup
 * on a node from outside (the simulator has no public hook for that, so the lookup's effects are handed to the
 * network as envelopes; the engine then delivers what they cause). Deterministic: no clocks, no randomness.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Rng } from '../../core/rng.ts';
import { randomPeerId, type SimNetwork, type SimNode } from '../../sim/network.ts';
import { Chord, type LookupResult } from './chord.ts';
import { positionOf } from './ring.ts';
import { SortedRing } from './sorted-ring.ts';

export function chordOf(node: SimNode): Chord {
  for (const p of node.protocols) if (p instanceof Chord) return p;
  throw new Error(`E_SIM_NO_CHORD: node ${node.id.slice(0, 8)} runs no Chord`);
}

/**
 * Gives every live node its true successor, as a completed join would (Chord.adoptSuccessor). Predecessors,
 * successor lists and fingers are left to the protocol's stabilize and fix_fingers.
 */
export function seedRingSuccessors(network: SimNetwork): SortedRing {
  const ring = new SortedRing(network.live().map((n) => n.id));
  for (const node of network.live()) chordOf(node).adoptSuccessor(ring.next(node.id)!);
  return ring;
}

/** Starts a lookup on `node` now; run or drain the engine to carry it through. */
export function injectLookup(network: SimNetwork, node: SimNode, keyHex: string, requestId: string): void {
  const ctx = { self: node.id, now: network.now, rng: node.rng };
  for (const effect of chordOf(node).lookup(ctx, keyHex, requestId)) {
    if (effect.kind !== 'send') continue;
    network.deliver({ from: node.id, to: effect.to, protocol: 'chord', msg: effect.msg });
  }
}

/** Every lookup result the live nodes have finished, keyed by request id. */
export function collectResults(network: SimNetwork): Map<string, LookupResult & { origin: PeerId }> {
  const out = new Map<string, LookupResult & { origin: PeerId }>();
  for (const node of network.live()) for (const r of chordOf(node).takeCompleted()) out.set(r.requestId, { ...r, origin: node.id });
  return out;
}

export interface LookupCheck {
  readonly total: number;
  /** Answers naming the key's true successor on the current ring. */
  readonly correct: number;
  /** Lookups with no answer (still pending or timed out). */
  readonly failed: number;
  readonly meanHops: number;
  /** Hop counts of the answered lookups, sorted. */
  readonly hops: readonly number[];
}

/**
 * Issues `count` lookups of random keys from random live nodes, one at a time, carries each through with
 * `drain` (the cycle engine's), and checks every answer against the true ring.
 */
export function measureLookups(network: SimNetwork, drain: () => void, count: number, rng: Rng, tag: string): LookupCheck {
  const live = network.live();
  const ring = new SortedRing(live.map((n) => n.id));
  const expected = new Map<string, PeerId>();
  for (let i = 0; i < count; i++) {
    const node = live[rng.int(live.length)]!;
    const key = randomPeerId(rng);
    const requestId = `${tag}-${i}`;
    expected.set(requestId, ring.successorOf(positionOf(key))!);
    injectLookup(network, node, key, requestId);
    drain();
  }
  const results = collectResults(network);
  let correct = 0, failed = 0;
  const hops: number[] = [];
  for (const [requestId, owner] of expected) {
    const r = results.get(requestId);
    if (!r || !r.ok) {
      failed++;
      continue;
    }
    hops.push(r.hops);
    if (r.owner === owner) correct++;
  }
  hops.sort((a, b) => a - b);
  const meanHops = hops.reduce((s, h) => s + h, 0) / Math.max(1, hops.length);
  return { total: count, correct, failed, meanHops, hops };
}
