/**
 * Sliver (Gramoli, Vigfusson, Birman, Kermarrec, van Renesse, "Slicing Distributed Systems", IEEE Trans.
 * Computers 58(11), 2009), as a pure state machine.
 *
 * Each cycle a node sends its attribute value to a few peers from the peer-sampling view; each answers with its
 * own. Both sides also relay the [peer, value] pairs they most recently heard first-hand (`relayPerMessage`;
 * 0 gives the paper's plain exchange): this multiplies the values a node learns per cycle, and since only
 * first-hand values are relayed, a departed peer stops being relayed as soon as it stops speaking. A node remembers the latest value it has heard from each peer (at most `maxEntries`, forgetting a peer not
 * heard from for `ttlCycles` cycles, so departed nodes and changed values wash out) and estimates its rank as the
 * fraction of remembered values below its own (value, then peer id): with itself counted, lower / (seen + 1).
 *
 * The floor: the estimate is a sample proportion, with standard error about sqrt(p(1-p)/k) after k distinct
 * values, so nodes whose true rank is that close to a boundary may sit in the wrong slice; the error shrinks as
 * values accumulate (until the memory is full). Unlike random-value swapping, it needs no cooperation from
 * misplaced partners, which is why it converges faster.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import type { SliverMessage } from '../../wire/slicing.ts';
import type { View } from '../peer-sampling/view.ts';
import { compareByAttribute, sliceIndex, type Slicer } from './slicer.ts';

export interface SliverOptions {
  readonly view: View;
  /** Name of the attribute ranked by (travels in every message). */
  readonly attribute: string;
  /** This node's current attribute value. */
  readonly value: () => number;
  /** Peers contacted per cycle. */
  readonly pushesPerCycle?: number;
  /** First-hand [peer, value] pairs relayed per message (default 8; 0 = the paper's plain exchange). */
  readonly relayPerMessage?: number;
  /** Most values remembered. */
  readonly maxEntries?: number;
  /** A peer not heard from for this many cycles is forgotten. */
  readonly ttlCycles?: number;
}

interface Heard {
  value: number;
  cycle: number;
}

export class Sliver implements Protocol<SliverMessage>, Slicer {
  readonly name = 'sliver';
  readonly attribute: string;
  readonly maxEntries: number;
  readonly ttlCycles: number;
  private readonly view: View;
  private readonly value: () => number;
  private readonly pushesPerCycle: number;
  private readonly relayPerMessage: number;
  /** The last peers heard first-hand, with their values (newest last). */
  private recent: [PeerId, number][] = [];
  /** Insertion order = order of last hearing, so the first entry is the stalest. */
  private readonly heard = new Map<PeerId, Heard>();
  private cycle = 0;
  private self: PeerId | null = null;
  private cached: { value: number; rank: number } | null = null;

  constructor(options: SliverOptions) {
    this.view = options.view;
    this.attribute = options.attribute;
    this.value = options.value;
    this.pushesPerCycle = options.pushesPerCycle ?? 2;
    this.relayPerMessage = options.relayPerMessage ?? 8;
    this.maxEntries = options.maxEntries ?? 1000;
    this.ttlCycles = options.ttlCycles ?? 100;
    if (this.pushesPerCycle < 1 || this.maxEntries < 1 || this.ttlCycles < 1) {
      throw new Error('E_SLIVER_OPTIONS: pushesPerCycle, maxEntries and ttlCycles must be >= 1');
    }
  }

  /** How many peers' values the estimate rests on. */
  sampleSize(): number {
    return this.heard.size;
  }

  rankEstimate(): number {
    const own = this.value();
    if (this.cached && this.cached.value === own) return this.cached.rank;
    const self = this.self ?? '';
    let lower = 0;
    for (const [peer, h] of this.heard) if (compareByAttribute(h.value, peer, own, self) < 0) lower++;
    const rank = lower / (this.heard.size + 1);
    this.cached = { value: own, rank };
    return rank;
  }

  sliceOf(boundaries: readonly number[]): number {
    return sliceIndex(this.rankEstimate(), boundaries);
  }

  onTick(ctx: ProtocolContext): Effect<SliverMessage>[] {
    this.self = ctx.self;
    this.cycle++;
    this.expire();
    const value = this.value();
    return this.view
      .sample(this.pushesPerCycle, ctx.rng)
      .filter((peer) => peer !== ctx.self)
      .map((to) => ({ kind: 'send', to, msg: { t: 'sliver-push', attr: this.attribute, value, heard: this.relayFor(to) } }));
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: SliverMessage): Effect<SliverMessage>[] {
    this.self = ctx.self;
    if (msg.attr !== this.attribute || from === ctx.self) return [];
    const reply: Effect<SliverMessage>[] =
      msg.t === 'sliver-push' ? [{ kind: 'send', to: from, msg: { t: 'sliver-pull', attr: this.attribute, value: this.value(), heard: this.relayFor(from) } }] : [];
    this.record(from, msg.value, this.cycle);
    this.remember(from, msg.value);
    // A relayed value is a cycle old at best; it must not outlive first-hand news of the same peer.
    for (const [peer, value] of msg.heard) {
      if (peer === ctx.self || (this.heard.get(peer)?.cycle ?? -Infinity) >= this.cycle - 1) continue;
      this.record(peer, value, this.cycle - 1);
    }
    return reply;
  }

  onPeerDown(_ctx: ProtocolContext, peer: PeerId): Effect<SliverMessage>[] {
    if (this.heard.delete(peer)) this.cached = null;
    this.recent = this.recent.filter(([p]) => p !== peer);
    return [];
  }

  private relayFor(to: PeerId): [PeerId, number][] {
    if (this.relayPerMessage === 0) return [];
    return this.recent.filter(([peer]) => peer !== to).slice(-this.relayPerMessage);
  }

  private remember(peer: PeerId, value: number): void {
    if (this.relayPerMessage === 0) return;
    this.recent = this.recent.filter(([p]) => p !== peer);
    this.recent.push([peer, value]);
    if (this.recent.length > this.relayPerMessage + 1) this.recent.shift();
  }

  private record(peer: PeerId, value: number, cycle: number): void {
    this.heard.delete(peer);
    this.heard.set(peer, { value, cycle });
    if (this.heard.size > this.maxEntries) {
      const stalest = this.heard.keys().next().value;
      if (stalest !== undefined) this.heard.delete(stalest);
    }
    this.cached = null;
  }

  private expire(): void {
    for (const [peer, h] of this.heard) {
      if (this.cycle - h.cycle <= this.ttlCycles) break;
      this.heard.delete(peer);
      this.cached = null;
    }
  }
}
