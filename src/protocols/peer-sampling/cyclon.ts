/**
 * Cyclon peer sampling (Voulgaris, Gavidia, van Steen, "CYCLON: Inexpensive Membership Management for
 * Unstructured P2P Overlays", J. Network and Systems Management 13(2), 2005), as a pure state machine.
 *
 * Each node keeps a view of at most `viewSize` entries {peer, age}. Every cycle it (1) ages all entries by one,
 * (2) picks the oldest entry Q and removes it, (3) sends Q itself with age 0 plus `shuffleLength - 1` random other
 * entries. Q answers with a random subset of its own view and merges what it got; the initiator merges the
 * answer. Merging first fills empty slots, then replaces entries that were sent to the other side.
 *
 * Invariants: the view never holds self, never holds a peer twice, never exceeds `viewSize`.
 * A shuffle that gets no reply is forgotten: Q was already removed from the view, as in the paper, so dead
 * peers leave views within about `viewSize` cycles.
 *
 * The view is kept in one flat array allocated once, three slots per entry (peer, a small integer key of the peer,
 * age), not as entry objects: a merge asks "is this peer in the view?" about 20 times per received entry, and
 * comparing integer keys first spares reading 20 id strings scattered over the heap; one array instead of twenty
 * objects is also one memory access per node instead of many, which is what limited the simulator at 10^5 nodes.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import type { Rng } from '../../core/rng.ts';
import type { CyclonMessage, CyclonWireEntry } from '../../wire/peer-sampling.ts';
import { PendingShuffles } from './pending-shuffles.ts';
import { samplePositions, type View } from './view.ts';

export interface CyclonOptions {
  readonly viewSize?: number;
  readonly shuffleLength?: number;
}

export interface CyclonEntry {
  peer: PeerId;
  age: number;
}

/** Shuffles awaiting a reply; older ones are forgotten (their reply then only fills empty slots). */
const MAX_OUTSTANDING_SHUFFLES = 4;

/** Slots per view entry, and their order. */
const ENTRY = 3;
const PEER = 0;
const KEY = 1;
const AGE = 2;

export class Cyclon implements Protocol<CyclonMessage>, View {
  readonly name = 'cyclon';
  readonly viewSize: number;
  readonly shuffleLength: number;
  /** Entries in the view: entry i < size is slots[3i .. 3i+2] = peer, keyOf(peer), age. */
  private size = 0;
  private readonly slots: (PeerId | number)[];
  /** Target of each unanswered shuffle → the peers we sent it (candidates for replacement on reply). */
  private readonly pending: PendingShuffles;

  constructor(options: CyclonOptions = {}) {
    this.viewSize = options.viewSize ?? 20;
    this.shuffleLength = Math.min(options.shuffleLength ?? 8, this.viewSize);
    if (this.viewSize < 1 || this.shuffleLength < 1) throw new Error('E_CYCLON_OPTIONS: viewSize and shuffleLength must be >= 1');
    this.slots = Array.from({ length: ENTRY * this.viewSize }, (_, i) => (i % ENTRY === PEER ? '' : 0));
    this.pending = new PendingShuffles(MAX_OUTSTANDING_SHUFFLES, this.shuffleLength);
    if (scratch.positions.length < this.viewSize) scratch.positions = new Int32Array(this.viewSize);
  }

  /** A copy of the view. */
  view(): { peer: PeerId; age: number }[] {
    const out = new Array<CyclonEntry>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = { peer: this.peer(i), age: this.age(i) };
    return out;
  }

  /** Up to n distinct peers from the view, chosen uniformly. */
  sample(n: number, rng: Rng): PeerId[] {
    const picked = scratch.positions;
    const k = samplePositions(this.size, n, rng, picked);
    const out = new Array<PeerId>(k);
    for (let i = 0; i < k; i++) out[i] = this.peer(picked[i]!);
    return out;
  }

  onTick(ctx: ProtocolContext): Effect<CyclonMessage>[] {
    const slots = this.slots;
    if (this.size === 0) return [];
    let oldest = 0;
    for (let i = 0; i < this.size; i++) {
      const age = this.age(i) + 1;
      slots[ENTRY * i + AGE] = age;
      if (age > this.age(oldest)) oldest = i;
    }
    const target = this.peer(oldest);
    const record = this.pending.open(target, this.key(oldest));
    this.removeAt(oldest);
    const picked = scratch.positions;
    const k = samplePositions(this.size, this.shuffleLength - 1, ctx.rng, picked);
    const sent = new Array<CyclonWireEntry>(k + 1);
    sent[0] = { peer: ctx.self, age: 0 };
    for (let i = 0; i < k; i++) {
      const at = picked[i]!;
      this.pending.add(record, this.peer(at), this.key(at));
      sent[i + 1] = { peer: this.peer(at), age: this.age(at) };
    }
    return [{ kind: 'send', to: target, msg: { t: 'shuffle', entries: sent } }];
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: CyclonMessage): Effect<CyclonMessage>[] {
    const fromKey = keyOf(from);
    const victims = scratch.victims;
    if (msg.t === 'shuffle') {
      // A random subset of the view without the sender; positions past the sender's shift by one.
      const fromAt = this.indexOf(from, fromKey);
      const picked = scratch.positions;
      const k = samplePositions(this.size - (fromAt >= 0 ? 1 : 0), this.shuffleLength, ctx.rng, picked);
      const reply = new Array<CyclonWireEntry>(k);
      for (let i = 0; i < k; i++) {
        let at = picked[i]!;
        if (fromAt >= 0 && at >= fromAt) at++;
        victims.peers[i] = this.peer(at);
        victims.keys[i] = this.key(at);
        reply[i] = { peer: this.peer(at), age: this.age(at) };
      }
      victims.count = k;
      this.merge(ctx.self, msg.entries);
      return [{ kind: 'send', to: from, msg: { t: 'shuffle-reply', entries: reply } }];
    }
    const record = this.pending.take(from, fromKey);
    victims.count = record < 0 ? 0 : this.pending.count(record);
    for (let i = 0; i < victims.count; i++) {
      victims.peers[i] = this.pending.peer(record, i);
      victims.keys[i] = this.pending.key(record, i);
    }
    this.merge(ctx.self, msg.entries);
    // The partner just answered, so it is alive: keep it if a slot is free. In a full view this never applies
    // (the paper's case); in a cloud of two or three peers it stops the one link bouncing the views empty.
    if (from !== ctx.self && this.size < this.viewSize && this.indexOf(from, fromKey) < 0) this.append(from, 0, fromKey);
    return [];
  }

  onPeerDown(_ctx: ProtocolContext, peer: PeerId): Effect<CyclonMessage>[] {
    const key = keyOf(peer);
    const at = this.indexOf(peer, key);
    if (at >= 0) this.removeAt(at);
    this.pending.take(peer, key);
    return [];
  }

  onPeersDiscovered(ctx: ProtocolContext, peers: readonly PeerId[]): Effect<CyclonMessage>[] {
    for (const peer of peers) {
      if (this.size >= this.viewSize) break;
      const key = keyOf(peer);
      if (peer === ctx.self || this.indexOf(peer, key) >= 0) continue;
      this.append(peer, 0, key);
    }
    return [];
  }

  /**
   * The paper's merge: skip self and peers already known; fill empty slots first, then overwrite entries that
   * went to the other side (scratch.victims, each at most once, in the order sent). Whatever is left is dropped.
   */
  private merge(self: PeerId, received: readonly CyclonWireEntry[]): void {
    const victims = scratch.victims;
    let nextVictim = 0;
    for (let r = 0; r < received.length; r++) {
      const { peer, age } = received[r]!;
      if (peer === self) continue;
      const key = keyOf(peer);
      if (this.indexOf(peer, key) >= 0) continue;
      if (this.size < this.viewSize) {
        this.append(peer, age, key);
        continue;
      }
      // The next entry sent to the other side that is still in the view.
      let at = -1;
      while (at < 0 && nextVictim < victims.count) {
        at = this.indexOf(victims.peers[nextVictim]!, victims.keys[nextVictim]!);
        nextVictim++;
      }
      if (at < 0) break; // view full and nothing left to overwrite
      this.put(at, peer, key, age);
    }
  }

  private indexOf(peer: PeerId, key: number): number {
    const slots = this.slots;
    for (let i = 0; i < this.size; i++) if (slots[ENTRY * i + KEY] === key && slots[ENTRY * i + PEER] === peer) return i;
    return -1;
  }

  private peer(i: number): PeerId {
    return this.slots[ENTRY * i + PEER] as PeerId;
  }

  private key(i: number): number {
    return this.slots[ENTRY * i + KEY] as number;
  }

  private age(i: number): number {
    return this.slots[ENTRY * i + AGE] as number;
  }

  private put(i: number, peer: PeerId, key: number, age: number): void {
    this.slots[ENTRY * i + PEER] = peer;
    this.slots[ENTRY * i + KEY] = key;
    this.slots[ENTRY * i + AGE] = age;
  }

  private append(peer: PeerId, age: number, key: number): void {
    this.put(this.size++, peer, key, age);
  }

  /** Removes entry `at`, keeping the order of the others. */
  private removeAt(at: number): void {
    const slots = this.slots;
    for (let i = ENTRY * (at + 1); i < ENTRY * this.size; i++) slots[i - ENTRY] = slots[i]!;
    this.size--;
    this.slots[ENTRY * this.size + PEER] = '';
  }
}

/**
 * Scratch space shared by all Cyclon instances (nothing here is re-entered): positions picked by samplePositions,
 * and the peers a merge may overwrite. Sized on demand for the largest view seen.
 */
const scratch = {
  positions: new Int32Array(64),
  victims: { peers: [] as PeerId[], keys: [] as number[], count: 0 },
};

/**
 * A 30-bit summary of a peer id (its length and its first and last six characters): equal ids have equal keys,
 * so different keys prove different peers without comparing the strings; equal keys are checked with ===.
 */
function keyOf(peer: PeerId): number {
  const n = peer.length;
  let h = n;
  for (let i = 0; i < n && i < 6; i++) h = (Math.imul(h, 31) + peer.charCodeAt(i)) | 0;
  for (let i = Math.max(6, n - 6); i < n; i++) h = (Math.imul(h, 31) + peer.charCodeAt(i)) | 0;
  return h & 0x3fffffff;
}
