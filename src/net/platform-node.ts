/**
 * The edge's platform in a Node peer: simple-peer over node-datachannel's WebRTC polyfill and the `ws` WebSocket.
 * node-datachannel returns offers and answers whose `sdp` is a getter, which simple-peer then fails to rewrite
 * (`Cannot set property sdp`), so they are copied into plain {type, sdp} objects (BROWSER.md). It also, now and
 * then (≈ 1 link in 10 in one process) throws "Got a remote candidate without ICE transport" when an answer or
 * candidate arrives before its ICE transport exists, which makes simple-peer destroy the link: such calls are
 * retried a few times (a candidate that still fails is ignored: the others, or peer-reflexive ones, connect).
 */
import SimplePeer from 'simple-peer';
import { cleanup } from 'node-datachannel';
import { RTCIceCandidate, RTCPeerConnection, RTCSessionDescription } from 'node-datachannel/polyfill';
import { WebSocket } from 'ws';
import type { EdgePlatform, SocketFactory } from './platform.ts';

const CANDIDATE_RETRIES = 10;
const CANDIDATE_RETRY_MS = 50;

/** Runs `call` again while it fails for want of an ICE transport; then rethrows, or ignores the failure. */
async function retryWithoutIceTransport(call: () => Promise<void>, closed: () => boolean, ignoreLastFailure: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!String(err).includes('without ICE transport') || closed()) throw err;
      if (attempt >= CANDIDATE_RETRIES) {
        if (ignoreLastFailure) return;
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, CANDIDATE_RETRY_MS));
    }
  }
}

class PlainDescriptionPeerConnection extends RTCPeerConnection {
  override addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
    return retryWithoutIceTransport(() => super.addIceCandidate(candidate as RTCIceCandidateInit), () => this.connectionState === 'closed', true);
  }

  override setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    return retryWithoutIceTransport(() => super.setRemoteDescription(description), () => this.connectionState === 'closed', false);
  }

  override async createOffer(...args: Parameters<RTCPeerConnection['createOffer']>): Promise<RTCSessionDescriptionInit> {
    const offer = (await super.createOffer(...args)) as RTCSessionDescriptionInit;
    return { type: offer.type, sdp: offer.sdp ?? '' };
  }

  override async createAnswer(...args: Parameters<RTCPeerConnection['createAnswer']>): Promise<RTCSessionDescriptionInit> {
    const answer = (await super.createAnswer(...args)) as RTCSessionDescriptionInit;
    return { type: answer.type, sdp: answer.sdp ?? '' };
  }
}

export function nodePlatform(): EdgePlatform {
  return {
    SimplePeer,
    wrtc: {
      RTCPeerConnection: PlainDescriptionPeerConnection as unknown as typeof globalThis.RTCPeerConnection,
      RTCSessionDescription: RTCSessionDescription as unknown as typeof globalThis.RTCSessionDescription,
      RTCIceCandidate: RTCIceCandidate as unknown as typeof globalThis.RTCIceCandidate,
    },
    WebSocket: WebSocket as unknown as SocketFactory,
  };
}

/**
 * Stops node-datachannel's native threads. Closes every connection in the process, so call it only when the
 * process is done with WebRTC (e.g. at exit of the Node peer), not when one edge stops.
 */
export function shutdownNodeWebRtc(): void {
  cleanup();
}
