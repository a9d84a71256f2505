/**
 * T-Man building a ring sorted by peer id among the members of one slice (Jelasity, Montresor, Babaoglu,
 * "T-Man: Gossip-based fast overlay topology construction", Computer Networks 53(13), 2009; P2PCS binds the
 * nodes of each slice with such a ring). A pure state machine.
 *
 * Each cycle a member (1) ages its view entries and drops those older than `maxAge`; (2) picks a peer at random
 * among the `psi` best-ranked entries of its view and pushes it the `messageSize` descriptors (itself at age 0
 * included) nearest to that peer on the ring, on either side; the peer answers likewise, from its view before
 * merging, and both keep the `viewSize` best (about c/2 nearest on each side); (3) pushes to `probesPerCycle`
 * random peers from the peer-sampling view, which is how members find each other at first: a node of another
 * slice (or none) ignores the push (a member with an almost empty view probes `bootstrapProbes` peers instead).
 * Messages carry the slice name; a node whose slice changes starts over with an empty view.
 *
 * Besides the view of the c nearest, a node keeps `randomMembers` descriptors of members it heard from, replaced
 * at random, and offers them in its buffers (the T-Man paper merges a random sample into every buffer for the
 * same reason). Without them a node that the nearest members never heard of is found only by a walk of about m
 * ring positions per cycle; with them the distance to the nearest known member shrinks geometrically.
 *
 * A descriptor's age grows by one per cycle and by one per hop (a copy passed on before its holder's tick would
 * otherwise skip that tick's ageing, and a dead peer's descriptor, bounced around, would stay young).
 *
 * Dead members leave the ring three ways: a failed send (`onPeerDown`) removes the peer and keeps it out for
 * `tombstoneCycles`; descriptors of a dead peer are never refreshed, so they age out everywhere within
 * `maxAge` cycles; and a live view simply ranks closer live peers first.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import type { TManMessage, TManWireEntry } from '../../wire/tman.ts';
import type { View } from '../peer-sampling/view.ts';
import { nearestOnRing, rankByRingDistance, ringNeighboursAmong, type RingNeighbours } from './ring-ranking.ts';

export interface TManOptions {
  /** Peer sampling, for finding slice members. */
  readonly view: View;
  /** The slice this node is in now (null: none); read every tick and message. */
  readonly slice: () => string | null;
  /** c: descriptors kept (default 20). */
  readonly viewSize?: number;
  /** m: descriptors per message (default 10). */
  readonly messageSize?: number;
  /** ψ: the exchange partner is drawn from this many best-ranked entries (default 3). */
  readonly psi?: number;
  /** Random peers pushed to each cycle to find members (default 1). */
  readonly probesPerCycle?: number;
  /** Probes per cycle while the view holds fewer than psi members (default 4). */
  readonly bootstrapProbes?: number;
  /** Random members remembered and offered in buffers (default 20). */
  readonly randomMembers?: number;
  /**
   * Age (cycles, plus one per hop) after which a descriptor is dropped (default 15). Smaller clears dead peers
   * sooner but lets a live neighbour expire when, by chance, neither side picked the other for that long.
   */
  readonly maxAge?: number;
  /** Cycles a peer reported down is refused (default maxAge + 5). */
  readonly tombstoneCycles?: number;
}

export class TMan implements Protocol<TManMessage> {
  readonly name = 'tman';
  readonly viewSize: number;
  readonly messageSize: number;
  private readonly peerSampling: View;
  private readonly slice: () => string | null;
  private readonly psi: number;
  private readonly probesPerCycle: number;
  private readonly bootstrapProbes: number;
  private readonly randomMembers: number;
  /** Members heard from, replaced at random: peer → age. */
  private members = new Map<PeerId, number>();
  private readonly maxAge: number;
  private readonly tombstoneCycles: number;
  /** peer → age, in ring-distance order after every merge. */
  private entries = new Map<PeerId, number>();
  /** peer → cycle until which it is refused. */
  private readonly tombstones = new Map<PeerId, number>();
  private currentSlice: string | null = null;
  private self: PeerId | null = null;
  private cycle = 0;

  constructor(options: TManOptions) {
    this.peerSampling = options.view;
    this.slice = options.slice;
    this.viewSize = options.viewSize ?? 20;
    this.messageSize = options.messageSize ?? 10;
    this.psi = options.psi ?? 3;
    this.probesPerCycle = options.probesPerCycle ?? 1;
    this.bootstrapProbes = options.bootstrapProbes ?? 4;
    this.randomMembers = options.randomMembers ?? 20;
    this.maxAge = options.maxAge ?? 15;
    this.tombstoneCycles = options.tombstoneCycles ?? this.maxAge + 5;
    if (this.viewSize < 2 || this.messageSize < 1 || this.psi < 1 || this.maxAge < 1) {
      throw new Error('E_TMAN_OPTIONS: viewSize >= 2, messageSize, psi and maxAge >= 1');
    }
  }

  /** The slice whose ring this node is in, as of the last tick or message. */
  sliceName(): string | null {
    return this.currentSlice;
  }

  /** Nearest predecessor and successor by id among the view: the ring links once T-Man has converged. */
  ringNeighbours(): RingNeighbours {
    if (this.self === null) return { pred: null, succ: null };
    return ringNeighboursAmong(this.self, this.entries.keys());
  }

  /** A copy of the view, best-ranked first. */
  view(): TManWireEntry[] {
    return [...this.entries].map(([peer, age]) => ({ peer, age }));
  }

  onTick(ctx: ProtocolContext): Effect<TManMessage>[] {
    this.cycle++;
    const slice = this.follow(ctx);
    for (const [peer, until] of this.tombstones) if (until < this.cycle) this.tombstones.delete(peer);
    if (slice === null) return [];
    ageOut(this.entries, this.maxAge);
    ageOut(this.members, this.maxAge);
    const effects: Effect<TManMessage>[] = [];
    const best = [...this.entries.keys()].slice(0, this.psi);
    const partner = ctx.rng.pick(best);
    if (partner !== undefined) effects.push(this.push(ctx.self, slice, partner, 'tman-push'));
    const probes = this.entries.size < this.psi ? Math.max(this.bootstrapProbes, this.probesPerCycle) : this.probesPerCycle;
    for (const peer of this.peerSampling.sample(probes, ctx.rng)) {
      if (peer === ctx.self || peer === partner || this.entries.has(peer) || this.tombstones.has(peer)) continue;
      effects.push(this.push(ctx.self, slice, peer, 'tman-push'));
    }
    return effects;
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: TManMessage): Effect<TManMessage>[] {
    const slice = this.follow(ctx);
    if (slice === null || msg.slice !== slice || from === ctx.self) return [];
    this.tombstones.delete(from); // it spoke, so it is alive
    const reply = msg.t === 'tman-push' ? [this.push(ctx.self, slice, from, 'tman-pull')] : [];
    this.merge(ctx.self, from, msg.entries);
    this.rememberMember(ctx, from);
    return reply;
  }

  onPeerDown(_ctx: ProtocolContext, peer: PeerId): Effect<TManMessage>[] {
    this.entries.delete(peer);
    this.members.delete(peer);
    this.tombstones.set(peer, this.cycle + this.tombstoneCycles);
    return [];
  }

  /** Reads the current slice; a change of slice empties the view (the old ring is none of our business). */
  private follow(ctx: ProtocolContext): string | null {
    this.self = ctx.self;
    const slice = this.slice();
    if (slice !== this.currentSlice) {
      this.entries = new Map();
      this.members = new Map();
      this.currentSlice = slice;
    }
    return slice;
  }

  /** A message to `to` with the descriptors (self included, at age 0) nearest to `to` on the ring. */
  private push(self: PeerId, slice: string, to: PeerId, t: TManMessage['t']): Effect<TManMessage> {
    const pool = new Map(this.members);
    for (const [peer, age] of this.entries) pool.set(peer, age);
    pool.set(self, 0);
    const chosen = nearestOnRing(to, pool.keys(), this.messageSize);
    return { kind: 'send', to, msg: { t, slice, entries: chosen.map((peer) => ({ peer, age: pool.get(peer)! })) } };
  }

  /** Keeps `from` among the random members: fills a free slot, else replaces a random one. */
  private rememberMember(ctx: ProtocolContext, from: PeerId): void {
    if (this.randomMembers === 0) return;
    if (this.members.has(from)) {
      this.members.set(from, 0);
      return;
    }
    if (this.members.size >= this.randomMembers) {
      const victim = ctx.rng.pick([...this.members.keys()]);
      if (victim !== undefined) this.members.delete(victim);
    }
    this.members.set(from, 0);
  }

  private merge(self: PeerId, from: PeerId, entries: readonly TManWireEntry[]): void {
    const received = [...entries, { peer: from, age: 0 }];
    const pool = new Map(this.entries);
    for (const { peer, age: sentAge } of received) {
      // A hop costs a cycle of age: otherwise a copy passed on before its holder's tick skips that tick's ageing,
      // and a dead peer's descriptor, bounced between nodes, can stay young for many times maxAge.
      const age = peer === from ? 0 : sentAge + 1;
      if (peer === self || this.tombstones.has(peer) || age > this.maxAge) continue;
      const known = pool.get(peer);
      if (known === undefined || age < known) pool.set(peer, age);
    }
    const kept = rankByRingDistance(self, pool.keys(), this.viewSize);
    this.entries = new Map(kept.map((peer) => [peer, pool.get(peer)!]));
  }
}

/** Ages every descriptor by one cycle and drops those older than maxAge. */
function ageOut(descriptors: Map<PeerId, number>, maxAge: number): void {
  for (const [peer, age] of descriptors) {
    if (age + 1 > maxAge) descriptors.delete(peer);
    else descriptors.set(peer, age + 1);
  }
}
