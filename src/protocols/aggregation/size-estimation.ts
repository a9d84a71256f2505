/**
 * Network size estimation by epoch-based push-pull averaging (Jelasity, Montresor, Babaoglu, "Gossip-based
 * aggregation in large dynamic networks", ACM TOCS 23(3), 2005, sections 4 and 5).
 *
 * Time is cut into epochs of `epochCycles` cycles. At the start of an epoch a node becomes a leader with
 * probability min(1, C / N_est) (every node in its first epoch, when it has no estimate yet), and opens a counting
 * instance keyed by its own id holding value 1; everyone else holds 0 for it. Each cycle a node averages all its
 * instances with one peer (push, then the peer's pull reply). The mean of an instance is 1/N, so at the end of the
 * epoch a node's estimate is 1 / (mean value of the instances it holds). Only the `maxInstances` instances
 * with the smallest leader ids are kept, in every node and message, so message size is bounded at N = 10^4
 * when everybody leads the first epoch.
 *
 * The epoch number travels in every message: a node that sees a newer epoch abandons its own and joins
 * (taking its old epoch's result first, see `minExchanges`); older epochs are ignored, but a
 * push from an older epoch gets a reply so the straggler learns the newer one. Removed nodes take their mass
 * with them, so the estimate follows churn from the next epoch on.
 *
 * Exchanges are atomic, as the paper's analysis assumes of each pairwise exchange: a node has at most one push in
 * flight, and while it waits for the answer it holds incoming pushes from nodes of lower rank (answering them when
 * its own exchange ends; ranks are redrawn each epoch, and waiting only on higher ranks rules out deadlock) and
 * declines the others by echoing the pusher's own state back as the pull, which changes nothing on either side.
 * Without this, when links are slower than a tick (browsers on a loaded machine), overlapping exchanges drove
 * values below 0, clamping them created mass, and 13 peers with 50–400 ms links estimated about 9 both before and
 * after two of them left (tests/sim/size-churn.sim.test.ts). A push stops blocking after twice the slowest recent
 * round trip (at least MIN_WAIT_CYCLES, at most `replyTimeoutCycles`); its record stays until its answer comes,
 * even across epochs, so a late answer is still applied (or, from another epoch, recognised) without losing mass.
 * An epoch's result counts only at a node that took part in `minExchanges` exchanges in it.
 *
 * Other named values (load, free CPU) ride along: `localValues()` is read at each epoch start and `averages()`
 * gives their network-wide means from the last completed epoch.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import type { AggregationMessage } from '../../wire/aggregation.ts';
import type { View } from '../peer-sampling/view.ts';
import { applyReply, keepSmallestKeys, meanOf, type Averages } from './averaging.ts';

export interface SizeEstimationOptions {
  /** Where exchange partners come from (Cyclon's view in production; any View in the simulator). */
  readonly view: View;
  /** Cycles per epoch. */
  readonly epochCycles?: number;
  /** Expected number of leaders per epoch (C in min(1, C / N_est)). */
  readonly leaderConstant?: number;
  /** Counting instances kept per node and per message. */
  readonly maxInstances?: number;
  /** This node's contribution to other averages, read at each epoch start. */
  readonly localValues?: () => ReadonlyMap<string, number>;
  /** Exchanges a node must have taken part in during an epoch for its result to count (default 8). */
  readonly minExchanges?: number;
  /** The longest a push blocks its sender, in cycles, however slow its recent round trips were (default 10). */
  readonly replyTimeoutCycles?: number;
}

/** Records of pushes awaiting their pull (the newest may block; older ones wait for late answers); oldest go first. */
const MAX_OUTSTANDING = 8;
/** Pushes held while this node waits for its own pull; more are declined. */
const MAX_DEFERRED = 8;
/** Cycles a push blocks its sender at least, and how many recent round trips set how long it may block beyond. */
const MIN_WAIT_CYCLES = 2;
const ROUND_TRIPS_KEPT = 16;

interface Outstanding {
  readonly epoch: number;
  /** The cycle of the epoch it was sent in, and the time (ctx.now). */
  readonly cycle: number;
  readonly at: number;
  /** Exactly what went on the wire, so the reply's difference is taken against the same numbers. */
  readonly instances: Averages;
  readonly values: Averages;
}

type Deferred = { from: PeerId; msg: AggregationMessage };
/**
 * The empty list of held pushes, shared, so that an idle node's tick reads nothing of its own to learn there are
 * none (at 10^5 simulated nodes every separate object read is a cache miss). Frozen: holding a push makes a new list.
 */
const NONE_DEFERRED: readonly Deferred[] = Object.freeze([]);

export class SizeEstimation implements Protocol<AggregationMessage> {
  readonly name = 'aggregation';
  /** options.view, read every tick (kept here to spare a read of the options object). */
  private readonly view: View;
  readonly epochCycles: number;
  private readonly leaderConstant: number;
  private readonly maxInstances: number;
  private readonly replyTimeoutCycles: number;
  private readonly minExchanges: number;
  /** -1 until the first tick or message starts an epoch. */
  private epoch = -1;
  private cycle = 0;
  private instances: Averages = new Map();
  private values: Averages = new Map();
  private readonly outstanding = new Map<PeerId, Outstanding>();
  /** The partner of the push in flight, while it blocks this node (see `busy`). */
  private awaiting: PeerId | null = null;
  /** Pushes from lower ranks that arrived while busy, answered as soon as this node's own exchange ends. */
  private deferred: readonly Deferred[] = NONE_DEFERRED;
  private lastEstimate: number | null = null;
  private lastAverages: Averages | null = null;
  private completedEpochs = 0;
  /** The last round trips of this node's pushes, ms. */
  private readonly roundTrips: number[] = [];
  /** Exchanges completed in this epoch (as initiator or replier). */
  private exchanges = 0;

  constructor(private readonly options: SizeEstimationOptions) {
    this.view = options.view;
    this.epochCycles = Math.max(2, options.epochCycles ?? 20);
    this.leaderConstant = options.leaderConstant ?? 4;
    this.maxInstances = options.maxInstances ?? 8;
    this.replyTimeoutCycles = Math.max(1, options.replyTimeoutCycles ?? 10);
    this.minExchanges = options.minExchanges ?? 8;
  }

  /** The network size estimated in the last completed epoch; null until one completes. */
  estimate(): number | null {
    return this.lastEstimate;
  }

  /** Network-wide means of the named local values, from the last completed epoch. */
  averages(): ReadonlyMap<string, number> | null {
    return this.lastAverages;
  }

  /** The epoch this node is in (-1 before it starts) and how many epochs' results it has taken. */
  progress(): { epoch: number; cycle: number; completedEpochs: number } {
    return { epoch: this.epoch, cycle: this.cycle, completedEpochs: this.completedEpochs };
  }

  /** This node's current estimate inside the running epoch (for convergence measurements). */
  currentEstimate(): number | null {
    return estimateFrom(this.instances);
  }

  /** This node's current named values inside the running epoch (for variance measurements). */
  currentValues(): ReadonlyMap<string, number> {
    return this.values;
  }

  /** This node's current instance values (for variance measurements in the simulator). */
  instanceValues(): ReadonlyMap<string, number> {
    return this.instances;
  }

  onTick(ctx: ProtocolContext): Effect<AggregationMessage>[] {
    if (this.epoch < 0) this.startEpoch(ctx, 0, 0, true);
    else if (++this.cycle >= this.epochCycles) {
      this.completeEpoch();
      this.startEpoch(ctx, this.epoch + 1, 0, true);
    }
    if (this.busy(ctx.now)) return [];
    const effects = this.answerDeferred();
    const peer = this.view.sample(1, ctx.rng)[0];
    // A peer whose late answer to an earlier push may still come is skipped: a second record would replace the
    // first, and one of the two answers would then be applied against the wrong numbers.
    if (peer === undefined || peer === ctx.self || this.outstanding.has(peer)) return effects;
    const push = this.message('push');
    this.outstanding.delete(peer);
    this.outstanding.set(peer, { epoch: this.epoch, cycle: this.cycle, at: ctx.now, instances: toMap(push.instances), values: toMap(push.values) });
    if (this.outstanding.size > MAX_OUTSTANDING) {
      const first = this.outstanding.keys().next().value;
      if (first !== undefined) this.outstanding.delete(first);
    }
    this.awaiting = peer;
    effects.push({ kind: 'send', to: peer, msg: push });
    return effects;
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: AggregationMessage): Effect<AggregationMessage>[] {
    if (msg.epoch > this.epoch) this.join(ctx, msg.epoch, msg.cycle);
    if (msg.t === 'push') {
      if (msg.epoch !== this.epoch || !this.busy(ctx.now)) return [...this.answerDeferred(), this.answer(from, msg)];
      // Only pushes from nodes of lower rank wait, so no cycle of nodes can wait on each other; and only while our
      // own push is young, so the pusher's wait (ours plus a round trip) stays within its own reply timeout.
      const lower = rankOf(from, this.epoch) < rankOf(ctx.self, this.epoch);
      if (lower && this.deferred.length < MAX_DEFERRED && this.answerExpectedSoon(ctx.now)) {
        this.deferred = [...this.deferred, { from, msg }];
        return [];
      }
      // Declined: the pusher gets its own state back, so applying the "reply" leaves it as it was.
      return [{ kind: 'send', to: from, msg: { ...msg, t: 'pull', cycle: this.cycle } }];
    }
    const sent = this.outstanding.get(from);
    this.outstanding.delete(from);
    if (this.awaiting === from) this.awaiting = null;
    // Without the record of what we pushed, or across epochs, the reply cannot be applied without losing mass.
    if (sent && sent.epoch === this.epoch && msg.epoch === this.epoch) {
      this.instances = keepSmallestKeys(applyReply(this.instances, sent.instances, toMap(msg.instances), true), this.maxInstances);
      this.values = applyReply(this.values, sent.values, toMap(msg.values), false);
      this.exchanges++;
    }
    if (sent) {
      this.roundTrips.push(Math.max(0, ctx.now - sent.at));
      if (this.roundTrips.length > ROUND_TRIPS_KEPT) this.roundTrips.shift();
    }
    return this.busy(ctx.now) ? [] : this.answerDeferred();
  }

  onPeerDown(ctx: ProtocolContext, peer: PeerId): Effect<AggregationMessage>[] {
    this.outstanding.delete(peer);
    if (this.deferred.length > 0) this.deferred = this.deferred.filter((d) => d.from !== peer);
    if (this.awaiting === peer) this.awaiting = null;
    return this.busy(ctx.now) ? [] : this.answerDeferred();
  }

  /** A push is in flight and not yet given up on: this node does not push, and holds or declines pushes. */
  private busy(now: number): boolean {
    if (this.awaiting === null) return false;
    const sent = this.outstanding.get(this.awaiting);
    if (sent && sent.epoch === this.epoch && this.waiting(sent, now)) return true;
    this.awaiting = null;
    return false;
  }

  /**
   * Whether the answer to `sent` is still worth waiting for: always for MIN_WAIT_CYCLES, never beyond
   * `replyTimeoutCycles`, and in between while it is younger than twice the slowest recent round trip (a lost
   * message then blocks a node briefly on a fast network, while slow links still get their answers in time).
   */
  private waiting(sent: Outstanding, now: number): boolean {
    const cycles = this.cycle - sent.cycle;
    if (cycles < MIN_WAIT_CYCLES) return true;
    if (cycles >= this.replyTimeoutCycles) return false;
    return this.roundTrips.length === 0 || now - sent.at < 2 * Math.max(...this.roundTrips);
  }

  /** Our own push is younger than the slowest recent round trip (or than a cycle, before any was measured). */
  private answerExpectedSoon(now: number): boolean {
    const sent = this.awaiting === null ? undefined : this.outstanding.get(this.awaiting);
    if (!sent) return false;
    return this.roundTrips.length === 0 ? this.cycle === sent.cycle : now - sent.at < Math.max(...this.roundTrips);
  }

  /** The replier's half of an exchange: merge a push of our epoch, and answer with the state from before. */
  private answer(from: PeerId, msg: AggregationMessage): Effect<AggregationMessage> {
    const reply = this.message('pull');
    if (msg.epoch === this.epoch) {
      this.instances = keepSmallestKeys(meanOf(this.instances, toMap(msg.instances), true), this.maxInstances);
      this.values = meanOf(this.values, toMap(msg.values), false);
      this.exchanges++;
    }
    return { kind: 'send', to: from, msg: reply };
  }

  private answerDeferred(): Effect<AggregationMessage>[] {
    if (this.deferred.length === 0) return [];
    const held = this.deferred;
    this.deferred = NONE_DEFERRED;
    return held.map(({ from, msg }) => this.answer(from, msg));
  }

  private join(ctx: ProtocolContext, epoch: number, cycle: number): void {
    if (epoch === this.epoch + 1) this.completeEpoch();
    // The sender has already ticked in its cycle and we may be about to: adopting its count as is would put us
    // one cycle ahead, and chains of joins would run the epoch ahead of its starter and end it early everywhere.
    // One cycle behind is harmless: the most advanced nodes start the next epoch and pull the rest along.
    // Joining at the very start is as good as starting it ourselves, so the node may still lead. (Letting later
    // joiners lead too gives large clouds more leaders, but under message loss a late leader's instance spreads
    // from a lopsided start and skewed the estimate far more: measured 61% off at N = 2,000 with 1% loss.)
    const mayLead = cycle <= 1;
    this.startEpoch(ctx, epoch, Math.min(Math.max(0, cycle - 1), this.epochCycles - 1), mayLead);
  }

  private startEpoch(ctx: ProtocolContext, epoch: number, cycle: number, mayLead: boolean): void {
    this.epoch = epoch;
    this.cycle = cycle;
    // Records of pushes from older epochs stay until their answer comes: that answer must not be taken for the
    // answer to a newer push to the same peer (one push per peer is in flight at a time).
    this.awaiting = null;
    this.exchanges = 0;
    const n = this.lastEstimate;
    const leads = mayLead && (n === null || ctx.rng.next() < Math.min(1, this.leaderConstant / n));
    this.instances = leads ? new Map([[ctx.self, 1]]) : new Map();
    this.values = new Map(this.options.localValues?.() ?? []);
  }

  /**
   * Takes the epoch's result, unless this node took part in too few exchanges to hold it (it joined late: it
   * started from 0 and each exchange with a converged peer only halves its distance to the mean). Counting
   * exchanges rather than cycles lets nodes ticking at different rates (a Node peer among browsers) agree.
   */
  private completeEpoch(): void {
    if (this.exchanges < this.minExchanges) return;
    const estimate = estimateFrom(this.instances);
    if (estimate !== null) this.lastEstimate = estimate;
    if (this.values.size > 0) this.lastAverages = new Map(this.values);
    this.completedEpochs++;
  }

  private message(t: 'push' | 'pull'): AggregationMessage {
    const instances: [string, number][] = [];
    for (const [leader, v] of this.instances) instances.push([leader, Math.min(1, v)]); // float noise above 1
    return { t, epoch: this.epoch, cycle: this.cycle, instances, values: [...this.values] };
  }
}

/**
 * The size estimate from the instances held with a positive value: 1 / (their mean value), null when there are
 * none. (Inverting the mean rather than averaging the inverses keeps one barely-reached instance from blowing up.)
 */
export function estimateFrom(instances: ReadonlyMap<string, number>): number | null {
  let sum = 0;
  let count = 0;
  for (const v of instances.values()) {
    if (v <= 0) continue;
    sum += v;
    count++;
  }
  return count === 0 ? null : count / sum;
}

/**
 * A node's place in the order that decides who may wait for whom, redrawn every epoch (FNV-1a of id and epoch) so
 * that no node is always the one kept waiting. Ties (equal hashes) fall back to the ids.
 */
function rankOf(peer: PeerId, epoch: number): string {
  let h = 0x811c9dc5 ^ epoch;
  for (let i = 0; i < peer.length; i++) h = Math.imul(h ^ peer.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0') + peer;
}

function toMap(pairs: readonly (readonly [string, number])[]): Averages {
  return new Map(pairs.map(([k, v]) => [k, v]));
}
