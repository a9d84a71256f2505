/**
 * What the edge needs from its runtime, injected as simple-peer injects `wrtc`: the same edge code runs in a
 * browser page (platform-browser.ts) and in a Node peer (platform-node.ts).
 */
import type SimplePeer from 'simple-peer';

/** The subset of a WebSocket (browser global or `ws`) the signaling client uses. */
export interface SocketLike {
  readonly readyState: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = new (url: string) => SocketLike;

export interface EdgePlatform {
  /** simple-peer's constructor (the bundled min.js in browsers, the CJS module in Node). */
  readonly SimplePeer: SimplePeer.SimplePeer;
  /** WebRTC implementation for simple-peer; undefined where the global one exists (browsers). */
  readonly wrtc: SimplePeer.Options['wrtc'];
  readonly WebSocket: SocketFactory;
}
