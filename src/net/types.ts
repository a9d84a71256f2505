/**
 * The network edge as the node core sees it. In a browser the edge lives in the elected connection-holding
 * page (RTCPeerConnection exists only in pages) and reaches the SharedWorker over a MessagePort; in the Node
 * peer it lives in the same process. Either way the node core sees only this.
 */
import type { PeerId } from '../core/ids.ts';

/** Commands from the node core to the edge. */
export interface EdgeCommands {
  /** Send one frame (see wire/frame.ts) to a connected, authenticated peer. Returns false if not connected. */
  send(to: PeerId, frame: Uint8Array): boolean;
  /** Open an authenticated link to a peer (signaled through the overlay and/or the signaling server). */
  connect(to: PeerId): void;
  disconnect(to: PeerId): void;
}

/** Events from the edge to the node core. */
export interface EdgeEvents {
  /** A link passed the hello/auth handshake and may carry frames. */
  onPeerUp(peer: PeerId): void;
  onPeerDown(peer: PeerId, reason: string): void;
  /**
   * A frame from an authenticated peer. It belongs to the callee, and so does the rest of its buffer (it may be
   * a view into the data channel message it arrived in): the callee may keep or transfer it.
   */
  onFrame(from: PeerId, frame: Uint8Array): void;
  /** Peers handed out by the bootstrap service (the signaling server's welcome/peers). */
  onBootstrap(peers: readonly PeerId[]): void;
  /** Signaling server connection state. */
  onSignalingState(state: SignalingState): void;
  onLog(level: 'info' | 'warn', text: string): void;
}

export type SignalingState = 'connecting' | 'joined' | 'closed' | 'refused';

/** How long a dial may take (signal, ICE, link handshake) before it fails with E_CONNECT_TIMEOUT. */
export const CONNECT_TIMEOUT_MS = 15_000;
/** The reason given when a link is closed to make room under the cap: the peer itself is fine. */
export const EVICTED_REASON = 'evicted to make room';
