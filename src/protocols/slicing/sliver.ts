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
 *
 * Two additions to the paper, both off by default (the simulations run the paper's protocol):
 * - Several attributes in one exchange (`moreAttributes`): each message carries a section per attribute, and each
 *   attribute keeps its own memory and estimate, so ranking by k attributes costs the frames of one.
 * - Back-off (`maxPushIntervalCycles` > 1): when a cycle finds every estimate, sample size and own value as they
 *   were, the cycles between pushes double up to the cap; any change (a new or departed peer, a value that moved)
 *   brings pushes back to every cycle. Pushes are still answered at once. The cap must stay well below
 *   `ttlCycles`, or peers would be forgotten between exchanges.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import type { SliverMessage, SliverSection } from '../../wire/slicing.ts';
import type { View } from '../peer-sampling/view.ts';
import { AdaptiveInterval } from '../adaptive-interval.ts';
import { compareByAttribute, sliceIndex, type Slicer } from './slicer.ts';

export interface RankedAttribute {
  /** Name of the attribute (travels in every message). */
  readonly attribute: string;
  /** This node's current value of it. */
  readonly value: () => number;
}

export interface SliverOptions extends RankedAttribute {
  readonly view: View;
  /** Further attributes ranked in the same exchanges (rankEstimate(name) reads them). */
  readonly moreAttributes?: readonly RankedAttribute[];
  /** Peers contacted per cycle. */
  readonly pushesPerCycle?: number;
  /** First-hand [peer, value] pairs relayed per message (default 8; 0 = the paper's plain exchange). */
  readonly relayPerMessage?: number;
  /** Most values remembered. */
  readonly maxEntries?: number;
  /** A peer not heard from for this many cycles is forgotten. */
  readonly ttlCycles?: number;
  /** Most cycles between pushes while nothing changes (default 1 = push every cycle, as in the paper). */
  readonly maxPushIntervalCycles?: number;
}

interface Heard {
  value: number;
  cycle: number;
}

/** What a node knows about one attribute: the values it heard, by peer, and its rank estimate from them. */
class RankMemory {
  /** The last peers heard first-hand, with their values (newest last). */
  private recent: [PeerId, number][] = [];
  /** Insertion order = order of last hearing, so the first entry is the stalest. */
  readonly heard = new Map<PeerId, Heard>();
  private cached: { value: number; rank: number } | null = null;

  constructor(
    readonly attribute: string,
    readonly value: () => number,
    private readonly relayPerMessage: number,
    private readonly maxEntries: number,
  ) {}

  rankEstimate(self: PeerId): number {
    const own = this.value();
    if (this.cached && this.cached.value === own) return this.cached.rank;
    let lower = 0;
    for (const [peer, h] of this.heard) if (compareByAttribute(h.value, peer, own, self) < 0) lower++;
    const rank = lower / (this.heard.size + 1);
    this.cached = { value: own, rank };
    return rank;
  }

  section(to: PeerId): SliverSection {
    const heard = this.relayPerMessage === 0 ? [] : this.recent.filter(([peer]) => peer !== to).slice(-this.relayPerMessage);
    return { attr: this.attribute, value: this.value(), heard };
  }

  /** A section from `from`: its own value first-hand, and the values it relayed. */
  hear(self: PeerId, from: PeerId, section: SliverSection, cycle: number): void {
    this.record(from, section.value, cycle);
    this.remember(from, section.value);
    // A relayed value is a cycle old at best; it must not outlive first-hand news of the same peer.
    for (const [peer, value] of section.heard) {
      if (peer === self || (this.heard.get(peer)?.cycle ?? -Infinity) >= cycle - 1) continue;
      this.record(peer, value, cycle - 1);
    }
  }

  forget(peer: PeerId): void {
    if (this.heard.delete(peer)) this.cached = null;
    this.recent = this.recent.filter(([p]) => p !== peer);
  }

  expire(cycle: number, ttlCycles: number): void {
    for (const [peer, h] of this.heard) {
      if (cycle - h.cycle <= ttlCycles) break;
      this.heard.delete(peer);
      this.cached = null;
    }
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
}

export class Sliver implements Protocol<SliverMessage>, Slicer {
  readonly name = 'sliver';
  /** The first attribute: the one rankEstimate() and sliceOf() read without a name. */
  readonly attribute: string;
  readonly maxEntries: number;
  readonly ttlCycles: number;
  private readonly view: View;
  private readonly pushesPerCycle: number;
  private readonly pushes: AdaptiveInterval;
  private readonly memories: RankMemory[];
  private cycle = 0;
  private self: PeerId | null = null;

  constructor(options: SliverOptions) {
    this.view = options.view;
    this.attribute = options.attribute;
    this.pushesPerCycle = options.pushesPerCycle ?? 2;
    const relayPerMessage = options.relayPerMessage ?? 8;
    this.maxEntries = options.maxEntries ?? 1000;
    this.ttlCycles = options.ttlCycles ?? 100;
    if (this.pushesPerCycle < 1 || this.maxEntries < 1 || this.ttlCycles < 1) {
      throw new Error('E_SLIVER_OPTIONS: pushesPerCycle, maxEntries and ttlCycles must be >= 1');
    }
    this.pushes = new AdaptiveInterval(options.maxPushIntervalCycles ?? 1);
    const attributes = [options, ...(options.moreAttributes ?? [])];
    if (new Set(attributes.map((a) => a.attribute)).size !== attributes.length) throw new Error('E_SLIVER_OPTIONS: an attribute is named twice');
    this.memories = attributes.map((a) => new RankMemory(a.attribute, a.value, relayPerMessage, this.maxEntries));
  }

  /** How many peers' values the estimate of `attribute` (default: the first) rests on. */
  sampleSize(attribute = this.attribute): number {
    return this.memory(attribute).heard.size;
  }

  /** This node's rank estimate by `attribute` (default: the first), in [0, 1). */
  rankEstimate(attribute = this.attribute): number {
    return this.memory(attribute).rankEstimate(this.self ?? '');
  }

  sliceOf(boundaries: readonly number[]): number {
    return sliceIndex(this.rankEstimate(), boundaries);
  }

  /** Cycles between pushes at the moment (1 while anything changes; see maxPushIntervalCycles). */
  currentPushInterval(): number {
    return this.pushes.current;
  }

  onTick(ctx: ProtocolContext): Effect<SliverMessage>[] {
    this.self = ctx.self;
    this.cycle++;
    for (const m of this.memories) m.expire(this.cycle, this.ttlCycles);
    if (!this.pushDue()) return [];
    return this.view
      .sample(this.pushesPerCycle, ctx.rng)
      .filter((peer) => peer !== ctx.self)
      .map((to) => ({ kind: 'send', to, msg: { t: 'sliver-push', ranks: this.sections(to) } }));
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: SliverMessage): Effect<SliverMessage>[] {
    this.self = ctx.self;
    if (from === ctx.self || !msg.ranks.some((section) => this.has(section.attr))) return [];
    // The answer relays what was heard before this message, so it is built first.
    const reply: Effect<SliverMessage>[] = msg.t === 'sliver-push' ? [{ kind: 'send', to: from, msg: { t: 'sliver-pull', ranks: this.sections(from) } }] : [];
    for (const section of msg.ranks) {
      for (const m of this.memories) if (m.attribute === section.attr) m.hear(ctx.self, from, section, this.cycle);
    }
    return reply;
  }

  onPeerDown(_ctx: ProtocolContext, peer: PeerId): Effect<SliverMessage>[] {
    for (const m of this.memories) m.forget(peer);
    return [];
  }

  private sections(to: PeerId): SliverSection[] {
    return this.memories.map((m) => m.section(to));
  }

  /** Whether this cycle pushes: every cycle unless backing off, then as soon as any estimate, sample or value moved. */
  private pushDue(): boolean {
    if (this.pushes.max === 1) return true;
    const self = this.self ?? '';
    return this.pushes.due(this.cycle, this.memories.map((m) => `${m.value()}:${m.heard.size}:${m.rankEstimate(self)}`).join('|'));
  }

  private has(attribute: string): boolean {
    for (const m of this.memories) if (m.attribute === attribute) return true;
    return false;
  }

  private memory(attribute: string): RankMemory {
    const m = this.memories.find((x) => x.attribute === attribute);
    if (!m) throw new Error(`E_SLIVER_UNKNOWN_ATTRIBUTE: this Sliver does not rank by ${attribute}`);
    return m;
  }
}
