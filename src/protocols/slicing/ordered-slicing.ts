/**
 * Ordered slicing by random-value swapping (Jelasity & Kermarrec, "Ordered Slicing of Very Large-Scale Overlay
 * Networks", P2P 2006), as a pure state machine.
 *
 * Every node draws a random value r uniform in [0, 1) once. Each cycle it offers (attribute value a, r) to one
 * peer from the peer-sampling view; if the pair is misplaced — (a_i - a_j)(r_i - r_j) < 0, ties in a broken by
 * peer id — the peer takes r_i and answers with its old r_j, which the initiator takes. The multiset of random
 * values never changes, and every swap removes at least one inversion, so the random values end up sorted by
 * attribute and r becomes the node's rank estimate.
 *
 * The floor (stated in the paper): r values are i.i.d. uniform, not evenly spaced, so even fully sorted they
 * misplace the nodes whose true rank is within about sqrt(p(1-p)/N) of a boundary p. That floor is what the
 * tests and the bench compare against.
 *
 * In an event-driven runtime a node may start a second swap before the first completes; the initiator then takes
 * the answer only if its r is still the one it offered (`took`), so at worst one value is duplicated, never lost
 * into a non-uniform hole.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import type { OrderedSlicingMessage } from '../../wire/slicing.ts';
import type { View } from '../peer-sampling/view.ts';
import { compareByAttribute, sliceIndex, type Slicer } from './slicer.ts';

export interface OrderedSlicingOptions {
  /** Where swap partners come from (Cyclon's view in production). */
  readonly view: View;
  /** Name of the attribute ranked by (travels in every message). */
  readonly attribute: string;
  /** This node's current attribute value (read whenever needed, so it may change). */
  readonly value: () => number;
  /** The initial random value; drawn from the first context's rng when omitted. */
  readonly initialRand?: number;
  /** Swap offers per cycle (the paper uses one; with more, two acceptances in one cycle can duplicate a value). */
  readonly offersPerCycle?: number;
}

export class OrderedSlicing implements Protocol<OrderedSlicingMessage>, Slicer {
  readonly name = 'ordered-slicing';
  readonly attribute: string;
  private readonly view: View;
  private readonly value: () => number;
  private readonly offersPerCycle: number;
  private rand: number | null;
  /** Swaps this node took part in (for diagnostics). */
  swaps = 0;

  constructor(options: OrderedSlicingOptions) {
    this.view = options.view;
    this.attribute = options.attribute;
    this.value = options.value;
    this.offersPerCycle = options.offersPerCycle ?? 1;
    this.rand = options.initialRand ?? null;
    if (this.rand !== null && !(this.rand >= 0 && this.rand < 1)) throw new Error('E_SLICING_OPTIONS: initialRand must be in [0, 1)');
  }

  rankEstimate(): number {
    return this.rand ?? 0.5;
  }

  sliceOf(boundaries: readonly number[]): number {
    return sliceIndex(this.rankEstimate(), boundaries);
  }

  onTick(ctx: ProtocolContext): Effect<OrderedSlicingMessage>[] {
    const rand = this.ensureRand(ctx);
    const value = this.value();
    return this.view
      .sample(this.offersPerCycle, ctx.rng)
      .filter((peer) => peer !== ctx.self)
      .map((to) => ({ kind: 'send', to, msg: { t: 'swap-offer', attr: this.attribute, value, rand } }));
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: OrderedSlicingMessage): Effect<OrderedSlicingMessage>[] {
    if (msg.attr !== this.attribute) return [];
    const mine = this.ensureRand(ctx);
    if (msg.t === 'swap-accept') {
      if (mine === msg.took) {
        this.rand = msg.rand;
        this.swaps++;
      }
      return [];
    }
    const order = compareByAttribute(msg.value, from, this.value(), ctx.self);
    const misplaced = (order < 0 && msg.rand > mine) || (order > 0 && msg.rand < mine);
    if (!misplaced) return [];
    this.rand = msg.rand;
    this.swaps++;
    return [{ kind: 'send', to: from, msg: { t: 'swap-accept', attr: this.attribute, rand: mine, took: msg.rand } }];
  }

  private ensureRand(ctx: ProtocolContext): number {
    this.rand ??= ctx.rng.next();
    return this.rand;
  }
}
