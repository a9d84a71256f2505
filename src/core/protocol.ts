/**
 * The protocol interface (PeerSim's CDProtocol/EDProtocol, made pure). A protocol is a deterministic state
 * machine: it is driven by ticks and by messages, reads time and randomness only from its context, and
 * returns effects for the runtime to carry out. It never touches clocks, timers, sockets, storage or the DOM,
 * so the same module runs in the simulator, the SharedWorker and the Node peer.
 */
import type { PeerId } from './ids.ts';
import type { Rng } from './rng.ts';

export interface ProtocolContext {
  /** This node's id. */
  readonly self: PeerId;
  /** Milliseconds on the runtime's clock (simulated time in the simulator). */
  readonly now: number;
  /** The node's seeded random source. */
  readonly rng: Rng;
}

/** Something a protocol wants done. The runtime decides how (which link, which transport, when). */
export type Effect<M> =
  | { readonly kind: 'send'; readonly to: PeerId; readonly msg: M }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn'; readonly text: string };

export interface Protocol<M> {
  /** Stable name, also the `p` field of this protocol's wire envelope. */
  readonly name: string;
  /** One period of the protocol's active thread (a gossip cycle). */
  onTick(ctx: ProtocolContext): Effect<M>[];
  /** A validated message from a peer. */
  onMessage(ctx: ProtocolContext, from: PeerId, msg: M): Effect<M>[];
  /** The runtime learned that a peer is unreachable (its link closed or a send failed). */
  onPeerDown?(ctx: ProtocolContext, peer: PeerId): Effect<M>[];
  /** The runtime learned of peers from outside the protocol (bootstrap service, a new link). */
  onPeersDiscovered?(ctx: ProtocolContext, peers: readonly PeerId[]): Effect<M>[];
}

export function send<M>(to: PeerId, msg: M): Effect<M> {
  return { kind: 'send', to, msg };
}
