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
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import type { Rng } from '../../core/rng.ts';
import type { CyclonMessage } from '../../wire/peer-sampling.ts';
import { sampleDistinct, type View } from './view.ts';

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

export class Cyclon implements Protocol<CyclonMessage>, View {
  readonly name = 'cyclon';
  readonly viewSize: number;
  readonly shuffleLength: number;
  private entries: CyclonEntry[] = [];
  /** Target of each unanswered shuffle → the peers we sent it (candidates for replacement on reply). */
  private readonly outstanding = new Map<PeerId, PeerId[]>();

  constructor(options: CyclonOptions = {}) {
    this.viewSize = options.viewSize ?? 20;
    this.shuffleLength = Math.min(options.shuffleLength ?? 8, this.viewSize);
    if (this.viewSize < 1 || this.shuffleLength < 1) throw new Error('E_CYCLON_OPTIONS: viewSize and shuffleLength must be >= 1');
  }

  /** A copy of the view. */
  view(): { peer: PeerId; age: number }[] {
    return this.entries.map((e) => ({ peer: e.peer, age: e.age }));
  }

  /** Up to n distinct peers from the view, chosen uniformly. */
  sample(n: number, rng: Rng): PeerId[] {
    return sampleDistinct(this.entries, n, rng).map((e) => e.peer);
  }

  onTick(ctx: ProtocolContext): Effect<CyclonMessage>[] {
    if (this.entries.length === 0) return [];
    let oldest = 0;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      e.age++;
      if (e.age > this.entries[oldest]!.age) oldest = i;
    }
    const target = this.entries[oldest]!.peer;
    this.entries.splice(oldest, 1);
    const others = sampleDistinct(this.entries, this.shuffleLength - 1, ctx.rng);
    this.remember(target, others.map((e) => e.peer));
    const sent = [{ peer: ctx.self, age: 0 }, ...others.map((e) => ({ peer: e.peer, age: e.age }))];
    return [{ kind: 'send', to: target, msg: { t: 'shuffle', entries: sent } }];
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: CyclonMessage): Effect<CyclonMessage>[] {
    if (msg.t === 'shuffle') {
      const reply = sampleDistinct(this.entries.filter((e) => e.peer !== from), this.shuffleLength, ctx.rng);
      this.merge(ctx.self, msg.entries, reply.map((e) => e.peer));
      return [{ kind: 'send', to: from, msg: { t: 'shuffle-reply', entries: reply.map((e) => ({ peer: e.peer, age: e.age })) } }];
    }
    const sent = this.outstanding.get(from) ?? [];
    this.outstanding.delete(from);
    this.merge(ctx.self, msg.entries, sent);
    // The partner just answered, so it is alive: keep it if a slot is free. In a full view this never applies
    // (the paper's case); in a cloud of two or three peers it stops the one link bouncing the views empty.
    if (from !== ctx.self && !this.has(from) && this.entries.length < this.viewSize) this.entries.push({ peer: from, age: 0 });
    return [];
  }

  onPeerDown(_ctx: ProtocolContext, peer: PeerId): Effect<CyclonMessage>[] {
    this.entries = this.entries.filter((e) => e.peer !== peer);
    this.outstanding.delete(peer);
    return [];
  }

  onPeersDiscovered(ctx: ProtocolContext, peers: readonly PeerId[]): Effect<CyclonMessage>[] {
    for (const peer of peers) {
      if (this.entries.length >= this.viewSize) break;
      if (peer === ctx.self || this.has(peer)) continue;
      this.entries.push({ peer, age: 0 });
    }
    return [];
  }

  /**
   * The paper's merge: skip self and peers already known; fill empty slots first, then overwrite entries that
   * went to the other side (each at most once). Whatever is left is dropped.
   */
  private merge(self: PeerId, received: readonly { peer: PeerId; age: number }[], sentToOther: readonly PeerId[]): void {
    const replaceable = sentToOther.slice();
    for (const { peer, age } of received) {
      if (peer === self || this.has(peer)) continue;
      if (this.entries.length < this.viewSize) {
        this.entries.push({ peer, age });
        continue;
      }
      const at = this.nextReplaceable(replaceable);
      if (at < 0) break; // view full and nothing left to overwrite
      this.entries[at] = { peer, age };
    }
  }

  /** Index of the next entry sent to the other side that is still in the view (consumed), or -1. */
  private nextReplaceable(replaceable: PeerId[]): number {
    while (replaceable.length > 0) {
      const victim = replaceable.shift()!;
      const at = this.entries.findIndex((e) => e.peer === victim);
      if (at >= 0) return at;
    }
    return -1;
  }

  private has(peer: PeerId): boolean {
    for (const e of this.entries) if (e.peer === peer) return true;
    return false;
  }

  private remember(target: PeerId, sent: PeerId[]): void {
    this.outstanding.delete(target);
    this.outstanding.set(target, sent);
    if (this.outstanding.size > MAX_OUTSTANDING_SHUFFLES) {
      const first = this.outstanding.keys().next().value;
      if (first !== undefined) this.outstanding.delete(first);
    }
  }
}
