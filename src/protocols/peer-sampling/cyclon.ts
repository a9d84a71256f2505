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
 * The view is kept in one array allocated once, not as entry objects: the peers, then a 30-bit key of each peer,
 * then each age (the record of unanswered shuffles follows in the same array). A merge asks "is this peer in the
 * view?" for every received entry; a small filter of the view's keys answers "no" for most of them without
 * looking, and otherwise comparing integer keys, side by side in memory, spares reading 20 id strings scattered
 * over the heap (a message received right after it was made even brings its keys along, see `lastSent`). At 10^5
 * simulated nodes memory access, not arithmetic, is what limits the simulator, so the layout is the point.
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

/** The merge's key filter: a key sets bit (key >>> 3) & 31 of word key & 7 (256 bits for at most ~28 keys). */
const FILTER_WORDS = 8;

export class Cyclon implements Protocol<CyclonMessage>, View {
  readonly name = 'cyclon';
  readonly viewSize: number;
  readonly shuffleLength: number;
  /**
   * Entries in the view: entry i < size is store[i], with key store[keysAt + i] = keyOf(peer) and age
   * store[agesAt + i]; the pending shuffles' table follows the ages.
   */
  private size = 0;
  private readonly store: (PeerId | number)[];
  private readonly keysAt: number;
  private readonly agesAt: number;
  /**
   * Counts changes to which peer stands where in the view (not ages): a shuffle's record keeps it, so that its
   * reply knows whether the peers it sent are still where they were (reading one of those ids to check would
   * cost a cache miss each in a large simulation; comparing two strings in V8 reads both, even the same string).
   */
  private version = 0;
  /** This node's id as last seen in ctx.self, and its key. */
  private selfId: PeerId = '';
  private selfKey = 0;
  /** Target of each unanswered shuffle → the peers we sent it (candidates for replacement on reply). */
  private readonly pending: PendingShuffles;

  constructor(options: CyclonOptions = {}) {
    this.viewSize = options.viewSize ?? 20;
    this.shuffleLength = Math.min(options.shuffleLength ?? 8, this.viewSize);
    if (this.viewSize < 1 || this.shuffleLength < 1) throw new Error('E_CYCLON_OPTIONS: viewSize and shuffleLength must be >= 1');
    this.keysAt = this.viewSize;
    this.agesAt = 2 * this.viewSize;
    const pendingAt = 3 * this.viewSize;
    const length = pendingAt + PendingShuffles.sizeFor(MAX_OUTSTANDING_SHUFFLES, this.shuffleLength);
    // Allocated at its final size at once (Array.from grew it step by step; measured 1–4% slower at 10^5 nodes).
    const store = new Array<PeerId | number>(length);
    for (let i = 0; i < length; i++) store[i] = i < this.keysAt ? '' : 0;
    this.store = store;
    this.pending = new PendingShuffles(this.store, pendingAt, MAX_OUTSTANDING_SHUFFLES, this.shuffleLength);
    if (scratch.positions.length < this.viewSize) scratch.positions = new Int32Array(this.viewSize);
    if (lastSent.keys.length <= this.viewSize) {
      lastSent.keys = new Int32Array(this.viewSize + 1);
      lastSent.spare = new Int32Array(this.viewSize + 1);
      lastSent.msg = null;
    }
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
    if (this.size === 0) return [];
    const store = this.store;
    const agesAt = this.agesAt;
    let oldest = 0;
    let oldestAge = -1;
    for (let i = 0; i < this.size; i++) {
      const age = (store[agesAt + i] as number) + 1;
      store[agesAt + i] = age;
      if (age > oldestAge) {
        oldest = i;
        oldestAge = age;
      }
    }
    const target = this.peer(oldest);
    const record = this.pending.open(target, this.key(oldest));
    this.removeAt(oldest);
    const picked = scratch.positions;
    const k = samplePositions(this.size, this.shuffleLength - 1, ctx.rng, picked);
    const selfKey = this.keyOfSelf(ctx.self);
    const sent = new Array<CyclonWireEntry>(k + 1);
    const keys = lastSent.spare;
    sent[0] = { peer: ctx.self, age: 0 };
    keys[0] = selfKey;
    for (let i = 0; i < k; i++) {
      const at = picked[i]!;
      this.pending.add(record, this.peer(at), this.key(at), at);
      sent[i + 1] = { peer: this.peer(at), age: this.age(at) };
      keys[i + 1] = this.key(at);
    }
    this.pending.setVersion(record, this.version);
    const msg: CyclonMessage = { t: 'shuffle', entries: sent };
    publish(msg, ctx.self, selfKey);
    return [{ kind: 'send', to: target, msg }];
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: CyclonMessage): Effect<CyclonMessage>[] {
    const hints = lastSent.msg === msg && lastSent.count === msg.entries.length ? lastSent.keys : null;
    const fromKey = hints !== null && from === lastSent.sender ? lastSent.senderKey : keyOf(from);
    const selfKey = this.keyOfSelf(ctx.self);
    const victims = scratch.victims;
    if (msg.t === 'shuffle') {
      // A random subset of the view without the sender; positions past the sender's shift by one.
      const fromAt = this.indexOf(from, fromKey);
      const picked = scratch.positions;
      const k = samplePositions(this.size - (fromAt >= 0 ? 1 : 0), this.shuffleLength, ctx.rng, picked);
      const reply = new Array<CyclonWireEntry>(k);
      const keys = lastSent.spare;
      for (let i = 0; i < k; i++) {
        let at = picked[i]!;
        if (fromAt >= 0 && at >= fromAt) at++;
        victims.peers[i] = this.peer(at);
        victims.keys[i] = this.key(at);
        victims.positions[i] = at;
        reply[i] = { peer: this.peer(at), age: this.age(at) };
        keys[i] = this.key(at);
      }
      victims.count = k;
      this.merge(ctx.self, selfKey, msg.entries, hints);
      const out: CyclonMessage = { t: 'shuffle-reply', entries: reply };
      publish(out, ctx.self, selfKey);
      return [{ kind: 'send', to: from, msg: out }];
    }
    const record = this.pending.take(from, fromKey);
    victims.count = record < 0 ? 0 : this.pending.count(record);
    // If the view has not changed since the shuffle went out, the peers sent are still where they were taken from.
    const unmoved = record >= 0 && this.pending.version(record) === this.version;
    for (let i = 0; i < victims.count; i++) {
      victims.peers[i] = this.pending.peer(record, i);
      victims.keys[i] = this.pending.key(record, i);
      victims.positions[i] = unmoved ? this.pending.position(record, i) : -1;
    }
    this.merge(ctx.self, selfKey, msg.entries, hints);
    // The partner just answered, so it is alive: keep it if a slot is free. In a full view this never applies
    // (the paper's case); in a cloud of two or three peers it stops the one link bouncing the views empty.
    const fromSelf = fromKey === selfKey && from === ctx.self;
    if (!fromSelf && this.size < this.viewSize && this.indexOf(from, fromKey) < 0) this.append(from, 0, fromKey);
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
  private merge(self: PeerId, selfKey: number, received: readonly CyclonWireEntry[], hints: Int32Array | null): void {
    const victims = scratch.victims;
    this.buildFilter();
    let nextVictim = 0;
    for (let r = 0; r < received.length; r++) {
      const { peer, age } = received[r]!;
      // Keys first: comparing two different id strings reads both, somewhere in a large heap.
      const key = hints !== null ? hints[r]! : keyOf(peer);
      if (key === selfKey && peer === self) continue;
      if (mayHold(key) && this.indexOf(peer, key) >= 0) continue;
      if (this.size < this.viewSize) {
        this.append(peer, age, key);
        addToFilter(key);
        continue;
      }
      // The next entry sent to the other side that is still in the view. A replier knows where its victims stand,
      // and so does an initiator whose view has not changed since its shuffle went out (nothing moves during a
      // merge: entries are appended or overwrite victims, each victim once); otherwise they are looked for.
      let at = -1;
      while (at < 0 && nextVictim < victims.count) {
        const victim = victims.peers[nextVictim]!;
        const victimKey = victims.keys[nextVictim]!;
        const hint = victims.positions[nextVictim]!;
        at = hint >= 0 ? hint : this.indexOf(victim, victimKey);
        nextVictim++;
      }
      if (at < 0) break; // view full and nothing left to overwrite
      this.put(at, peer, key, age);
      addToFilter(key);
    }
  }

  /** Sets the filter from the keys in the view; later additions add to it, removals leave their bits (harmless). */
  private buildFilter(): void {
    const filter = scratch.filter;
    for (let w = 0; w < FILTER_WORDS; w++) filter[w] = 0;
    const store = this.store;
    for (let i = 0; i < this.size; i++) addToFilter(store[this.keysAt + i] as number);
  }

  private keyOfSelf(self: PeerId): number {
    if (self !== this.selfId) {
      this.selfId = self;
      this.selfKey = keyOf(self);
    }
    return this.selfKey;
  }

  private indexOf(peer: PeerId, key: number): number {
    const store = this.store;
    const keysAt = this.keysAt;
    for (let i = 0; i < this.size; i++) if (store[keysAt + i] === key && store[i] === peer) return i;
    return -1;
  }

  private peer(i: number): PeerId {
    return this.store[i] as PeerId;
  }

  private key(i: number): number {
    return this.store[this.keysAt + i] as number;
  }

  private age(i: number): number {
    return this.store[this.agesAt + i] as number;
  }

  private put(i: number, peer: PeerId, key: number, age: number): void {
    this.version = (this.version + 1) | 0;
    this.store[i] = peer;
    this.store[this.keysAt + i] = key;
    this.store[this.agesAt + i] = age;
  }

  private append(peer: PeerId, age: number, key: number): void {
    this.put(this.size++, peer, key, age);
  }

  /** Removes entry `at`, keeping the order of the others. */
  private removeAt(at: number): void {
    const store = this.store;
    const keysAt = this.keysAt;
    const agesAt = this.agesAt;
    for (let i = at + 1; i < this.size; i++) {
      store[i - 1] = store[i]!;
      store[keysAt + i - 1] = store[keysAt + i]!;
      store[agesAt + i - 1] = store[agesAt + i]!;
    }
    this.size--;
    store[this.size] = '';
    this.version = (this.version + 1) | 0;
  }
}

/**
 * Scratch space shared by all Cyclon instances (nothing here is re-entered): positions picked by samplePositions,
 * the peers a merge may overwrite (with where each stands in the view, when known), and the merge's key filter.
 * Sized on demand for the largest view seen.
 */
const scratch = {
  positions: new Int32Array(64),
  victims: { peers: [] as PeerId[], keys: [] as number[], positions: [] as number[], count: 0 },
  /** The filter of the keys in the view being merged into (see buildFilter). */
  filter: new Int32Array(FILTER_WORDS),
};

/**
 * The last message any Cyclon here sent, with the keys of its entries and of its sender. In the simulator a
 * message is usually received right after it is made (a shuffle, then its reply), and the receiver takes the keys
 * from here instead of reading every id string again (at 10^5 nodes each read is a cache miss). Matched by the
 * message's identity, so a message from the wire, or any other, simply has no hint; the keys are a pure function of
 * the ids, so results are the same either way.
 */
const lastSent = {
  msg: null as CyclonMessage | null,
  keys: new Int32Array(64),
  /** Where the next message's keys are written before it is published (the last one's must stay readable). */
  spare: new Int32Array(64),
  /** Its number of entries (a message is not changed once sent; this guards against one that was). */
  count: 0,
  sender: '' as PeerId,
  senderKey: 0,
};

function publish(msg: CyclonMessage, sender: PeerId, senderKey: number): void {
  const keys = lastSent.spare;
  lastSent.spare = lastSent.keys;
  lastSent.keys = keys;
  lastSent.msg = msg;
  lastSent.count = msg.entries.length;
  lastSent.sender = sender;
  lastSent.senderKey = senderKey;
}

function addToFilter(key: number): void {
  scratch.filter[key & (FILTER_WORDS - 1)]! |= 1 << ((key >>> 3) & 31);
}

/** False when the key is certainly not in the view being merged into; true when it may be. */
function mayHold(key: number): boolean {
  return (scratch.filter[key & (FILTER_WORDS - 1)]! & (1 << ((key >>> 3) & 31))) !== 0;
}

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
