/**
 * The edge's platform in a browser page: simple-peer's bundled build (plain 'simple-peer' fails under Vite:
 * `global`/`process` are undefined — BROWSER.md), the page's own RTCPeerConnection and WebSocket.
 */
import SimplePeer from 'simple-peer/simplepeer.min.js';
import type { EdgePlatform, SocketFactory } from './platform.ts';

export function browserPlatform(): EdgePlatform {
  return { SimplePeer, wrtc: undefined, WebSocket: globalThis.WebSocket as unknown as SocketFactory };
}
