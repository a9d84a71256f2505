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
 * (computing its old epoch's estimate first if that epoch was nearly done); older epochs are ignored, but a
 * push from an older epoch gets a reply so the straggler learns the newer one. Removed nodes take their mass
 * with them, so the estimate follows churn from the next epoch on.
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
}

/** Pushes still awaiting a pull; a lost one is dropped from here when newer ones arrive. */
const MAX_OUTSTANDING = 8;

interface Outstanding {
  readonly epoch: number;
  readonly instances: Averages;
  readonly values: Averages;
}

export class SizeEstimation implements Protocol<AggregationMessage> {
  readonly name = 'aggregation';
  readonly epochCycles: number;
  private readonly leaderConstant: number;
  private readonly maxInstances: number;
  /** -1 until the first tick or message starts an epoch. */
  private epoch = -1;
  private cycle = 0;
  private instances: Averages = new Map();
  private values: Averages = new Map();
  private readonly outstanding = new Map<PeerId, Outstanding>();
  private lastEstimate: number | null = null;
  private lastAverages: Averages | null = null;
  private completedEpochs = 0;

  constructor(private readonly options: SizeEstimationOptions) {
    this.epochCycles = Math.max(2, options.epochCycles ?? 20);
    this.leaderConstant = options.leaderConstant ?? 4;
    this.maxInstances = options.maxInstances ?? 8;
  }

  /** The network size estimated in the last completed epoch; null until one completes. */
  estimate(): number | null {
    return this.lastEstimate;
  }

  /** Network-wide means of the named local values, from the last completed epoch. */
  averages(): ReadonlyMap<string, number> | null {
    return this.lastAverages;
  }

  /** The epoch this node is in (-1 before it starts) and how many it has completed. */
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
    const [peer] = this.options.view.sample(1, ctx.rng);
    if (peer === undefined || peer === ctx.self) return [];
    this.outstanding.delete(peer);
    this.outstanding.set(peer, { epoch: this.epoch, instances: this.instances, values: this.values });
    if (this.outstanding.size > MAX_OUTSTANDING) {
      const first = this.outstanding.keys().next().value;
      if (first !== undefined) this.outstanding.delete(first);
    }
    return [{ kind: 'send', to: peer, msg: this.message('push') }];
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: AggregationMessage): Effect<AggregationMessage>[] {
    if (msg.epoch > this.epoch) this.join(ctx, msg.epoch, msg.cycle);
    if (msg.t === 'push') {
      const reply = this.message('pull');
      if (msg.epoch === this.epoch) {
        this.instances = keepSmallestKeys(meanOf(this.instances, toMap(msg.instances), true), this.maxInstances);
        this.values = meanOf(this.values, toMap(msg.values), false);
      }
      return [{ kind: 'send', to: from, msg: reply }];
    }
    const sent = this.outstanding.get(from);
    this.outstanding.delete(from);
    // Without the record of what we pushed, or across epochs, the reply cannot be applied without losing mass.
    if (!sent || sent.epoch !== this.epoch || msg.epoch !== this.epoch) return [];
    this.instances = keepSmallestKeys(applyReply(this.instances, sent.instances, toMap(msg.instances), true), this.maxInstances);
    this.values = applyReply(this.values, sent.values, toMap(msg.values), false);
    return [];
  }

  onPeerDown(_ctx: ProtocolContext, peer: PeerId): Effect<AggregationMessage>[] {
    this.outstanding.delete(peer);
    return [];
  }

  private join(ctx: ProtocolContext, epoch: number, cycle: number): void {
    if (epoch === this.epoch + 1 && this.cycle >= this.epochCycles / 2) this.completeEpoch();
    // The sender has already ticked in its cycle and we may be about to: adopting its count as is would put us
    // one cycle ahead, and chains of joins would run the epoch ahead of its starter and end it early everywhere.
    // One cycle behind is harmless: the most advanced nodes start the next epoch and pull the rest along.
    // Joining at the very start is as good as starting it ourselves, so the node may still lead.
    this.startEpoch(ctx, epoch, Math.min(Math.max(0, cycle - 1), this.epochCycles - 1), cycle <= 1);
  }

  private startEpoch(ctx: ProtocolContext, epoch: number, cycle: number, mayLead: boolean): void {
    this.epoch = epoch;
    this.cycle = cycle;
    this.outstanding.clear();
    const n = this.lastEstimate;
    const leads = mayLead && (n === null || ctx.rng.next() < Math.min(1, this.leaderConstant / n));
    this.instances = leads ? new Map([[ctx.self, 1]]) : new Map();
    this.values = new Map(this.options.localValues?.() ?? []);
  }

  private completeEpoch(): void {
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

function toMap(pairs: readonly (readonly [string, number])[]): Averages {
  return new Map(pairs.map(([k, v]) => [k, v]));
}
