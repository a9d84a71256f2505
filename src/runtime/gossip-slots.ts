/**
 * The node's gossip layer, composed for the ProtocolHost: Cyclon peer sampling (view 20, shuffle 8) and network
 * size estimation by push-pull averaging over Cyclon's view, with epochs of about ten seconds (at least 20 cycles).
 * Cyclon's first cycle runs as soon as the node's first link opens (a joining node's view fills a period
 * sooner); the averaging keeps to the tick, as its epochs count cycles.
 */
import type { PeerId } from '../core/ids.ts';
import { Cyclon } from '../protocols/peer-sampling/cyclon.ts';
import { SizeEstimation } from '../protocols/aggregation/size-estimation.ts';
import { decodeCyclonMessage, PEER_SAMPLING_WIRE_VERSION } from '../wire/peer-sampling.ts';
import { AGGREGATION_WIRE_VERSION, decodeAggregationMessage } from '../wire/aggregation.ts';
import type { ProtocolSlot } from './protocol-host.ts';
import type { ViewEntry } from './api.ts';
import type { View } from '../protocols/peer-sampling/view.ts';
import type { Protocol } from '../core/protocol.ts';
import type { CyclonMessage } from '../wire/peer-sampling.ts';
import { markJoin } from '../net/join-marks.ts';

export interface GossipSlots {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly slots: ProtocolSlot<any>[];
  /** Cyclon itself, as the View other layers sample peers from. */
  readonly sampler: View;
  view(): ViewEntry[];
  estimatedSize(): number | null;
  /** Cloud-wide means of the named local values (load, free resources) from the last epoch; null before. */
  averages(): ReadonlyMap<string, number> | null;
}

export const GOSSIP_VIEW_SIZE = 20;
export const GOSSIP_SHUFFLE_LENGTH = 8;
const EPOCH_MS = 10_000;
/**
 * Push-pull averaging shrinks the variance by ~0.3–0.35 per cycle, so one instance's relative error after k
 * cycles is about sqrt(N · 0.35^k): k = 10 leaves ~15% at N = 300, k = 20 leaves ~0.3% at N = 10^4. Hence an
 * epoch is never shorter than 20 cycles, even if that makes it longer than ten seconds at slow tick rates.
 */
const MIN_EPOCH_CYCLES = 20;

/** Cycles per size-estimation epoch: about ten seconds, but never fewer than MIN_EPOCH_CYCLES. */
export function epochCyclesFor(tickMs: number): number {
  return Math.max(MIN_EPOCH_CYCLES, Math.round(EPOCH_MS / Math.max(1, tickMs)));
}

export function createGossipSlots(self: PeerId, tickMs: number, localValues?: () => Map<string, number>): GossipSlots {
  void self; // protocols learn their id from the context; kept in the signature for composition roots
  const cyclon = new Cyclon({ viewSize: GOSSIP_VIEW_SIZE, shuffleLength: GOSSIP_SHUFFLE_LENGTH });
  const size = new SizeEstimation({ view: cyclon, epochCycles: epochCyclesFor(tickMs), ...(localValues ? { localValues } : {}) });
  return {
    slots: [
      { protocol: withJoinMarks(cyclon), version: PEER_SAMPLING_WIRE_VERSION, decode: decodeCyclonMessage, cycleOnFirstLink: true },
      { protocol: size, version: AGGREGATION_WIRE_VERSION, decode: decodeAggregationMessage },
    ],
    sampler: cyclon,
    view: () => cyclon.view(),
    estimatedSize: () => size.estimate(),
    averages: () => size.averages(),
  };
}

/**
 * Cyclon as the host drives it, plus join marks (net/join-marks.ts): the first gossip message and shuffle reply
 * received, and the first time the view holds n peers. Behaviour is Cyclon's own.
 */
function withJoinMarks(cyclon: Cyclon): Protocol<CyclonMessage> {
  const marked = <T>(effects: T): T => {
    const size = cyclon.view().length;
    for (let n = 1; n <= size; n++) markJoin(`view:${n}`);
    return effects;
  };
  return {
    name: cyclon.name,
    onTick: (ctx) => marked(cyclon.onTick(ctx)),
    onMessage: (ctx, from, msg) => {
      markJoin('cyclon-received');
      if (msg.t === 'shuffle-reply') markJoin('cyclon-reply');
      return marked(cyclon.onMessage(ctx, from, msg));
    },
    onPeerDown: (ctx, peer) => marked(cyclon.onPeerDown(ctx, peer)),
    onPeersDiscovered: (ctx, peers) => marked(cyclon.onPeersDiscovered(ctx, peers)),
  };
}
