/**
 * Transport figures in Node, measured side by side in one run: a raw node-datachannel RTCDataChannel (the
 * reference: no framing, no authentication, own backpressure) against two NetworkEdges (signaling server, link
 * handshake, frames, fragmentation above 256 KiB) moving the same bytes over loopback.
 */
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { startSignalingServer } from '../signaling/server.ts';
import { generateIdentity } from '../src/identity/identity.ts';
import { identityAuthority } from '../src/runtime/authenticator.ts';
import { NetworkEdge } from '../src/net/edge.ts';
import { nodePlatform } from '../src/net/platform-node.ts';
import type { PeerId } from '../src/core/ids.ts';

const HIGH_WATER = 4 * 1024 * 1024;

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** MB/s (10^6 bytes) of `total` bytes in `size`-byte messages over one raw ordered reliable data channel. */
export async function rawChannelRate(size: number, total: number): Promise<number> {
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  // Candidates wait until the other side has its remote description (node-datachannel refuses them before).
  const forA: RTCIceCandidateInit[] = [];
  const forB: RTCIceCandidateInit[] = [];
  let aReady = false;
  let bReady = false;
  a.onicecandidate = (e) => { if (e.candidate) (bReady ? void b.addIceCandidate(e.candidate).catch(() => {}) : forB.push(e.candidate)); };
  b.onicecandidate = (e) => { if (e.candidate) (aReady ? void a.addIceCandidate(e.candidate).catch(() => {}) : forA.push(e.candidate)); };
  let received = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  b.ondatachannel = (e) => {
    e.channel.binaryType = 'arraybuffer';
    e.channel.onmessage = (m) => {
      received += (m.data as ArrayBuffer).byteLength;
      if (received >= total) resolveDone();
    };
  };
  const channel = a.createDataChannel('bench');
  channel.binaryType = 'arraybuffer';
  channel.bufferedAmountLowThreshold = HIGH_WATER / 4;
  const opened = new Promise<void>((r) => (channel.onopen = () => r()));
  const offer = await a.createOffer();
  await a.setLocalDescription({ type: offer.type, sdp: offer.sdp ?? '' });
  await b.setRemoteDescription({ type: offer.type, sdp: offer.sdp ?? '' });
  bReady = true;
  for (const c of forB.splice(0)) await b.addIceCandidate(c).catch(() => {});
  const answer = await b.createAnswer();
  await b.setLocalDescription({ type: answer.type, sdp: answer.sdp ?? '' });
  await a.setRemoteDescription({ type: answer.type, sdp: answer.sdp ?? '' });
  aReady = true;
  for (const c of forA.splice(0)) await a.addIceCandidate(c).catch(() => {});
  await opened;
  const payload = new Uint8Array(size).fill(7);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    if (channel.bufferedAmount > HIGH_WATER) {
      await new Promise<void>((r) => (channel.onbufferedamountlow = () => r()));
      continue;
    }
    channel.send(payload);
    sent += size;
  }
  await done;
  const seconds = (performance.now() - start) / 1000;
  a.close();
  b.close();
  return total / seconds / 1e6;
}

interface BenchEdge {
  readonly id: PeerId;
  readonly edge: NetworkEdge;
  readonly up: Set<PeerId>;
  onFrame: (bytes: number) => void;
  joined: boolean;
}

async function benchEdge(wsUrl: string, cloud: string): Promise<BenchEdge> {
  const identity = await generateIdentity();
  const peer = { id: identity.peerId, up: new Set<PeerId>(), onFrame: (_n: number) => {}, joined: false } as BenchEdge;
  const edge = new NetworkEdge({
    signalingUrl: wsUrl, iceServers: [], maxConnections: 8, platform: nodePlatform(),
    events: {
      onPeerUp: (p) => peer.up.add(p),
      onPeerDown: (p) => peer.up.delete(p),
      onFrame: (_from, frame) => peer.onFrame(frame.byteLength),
      onBootstrap: () => {},
      onSignalingState: (s) => { peer.joined = s === 'joined'; },
      onLog: () => {},
    },
    authenticator: { peerId: identity.peerId, publicKey: identity.publicKey, cloud, ...identityAuthority(identity, () => null) },
  });
  (peer as { edge: NetworkEdge }).edge = edge;
  edge.start();
  return peer;
}

export interface EdgeFigures {
  /** ms from start() of the second edge to an authenticated link. */
  readonly linkMs: number;
  /** MB/s for each frame size measured. */
  readonly rates: Map<number, number>;
}

/** Two NetworkEdges over the real signaling server: link set-up time, then frame throughput per size. */
export async function edgeFigures(sizes: readonly number[], total: number): Promise<EdgeFigures> {
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: null });
  const a = await benchEdge(server.wsUrl, 'bench');
  await until(() => a.joined, 10_000, 'first edge joined');
  const start = performance.now();
  const b = await benchEdge(server.wsUrl, 'bench');
  await until(() => b.joined, 10_000, 'second edge joined');
  b.edge.connect(a.id);
  await until(() => a.up.has(b.id) && b.up.has(a.id), 15_000, 'edges linked');
  const linkMs = performance.now() - start;
  const rates = new Map<number, number>();
  for (const size of sizes) {
    let received = 0;
    const frame = new Uint8Array(size).fill(9);
    const t0 = performance.now();
    a.onFrame = (n) => (received += n);
    // The edge queues behind its own backpressure; offer frames in slices so the queue never holds it all.
    for (let sent = 0; sent < total; sent += size) {
      if (!b.edge.send(a.id, frame)) throw new Error('link dropped during the bench');
      if ((sent / size) % 64 === 63) await until(() => received >= sent - 32 * 1024 * 1024, 60_000, 'receiver');
    }
    await until(() => received >= total, 120_000, `all ${size}-byte frames received`);
    rates.set(size, total / ((performance.now() - t0) / 1000) / 1e6);
  }
  a.edge.stop();
  b.edge.stop();
  await server.close();
  return { linkMs, rates };
}
