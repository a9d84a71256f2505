/**
 * Bench page (not part of the app): exposes, on `window.transportBench`, raw RTCDataChannels set up by the
 * harness (SDP passed by hand, no framing; one, or several for a one-to-many fan-out) and a NetworkEdge (the
 * app's own transport: signaling, handshake, frames, fragmentation, backpressure) so both can move the same
 * bytes between browser contexts.
 */
import { NetworkEdge } from '../../src/net/edge.ts';
import { browserPlatform } from '../../src/net/platform-browser.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import { identityAuthority } from '../../src/runtime/authenticator.ts';

const HIGH_WATER = 4 * 1024 * 1024;
/** Raw connections and channels this page opened, by the name the harness gave each (one per receiving page). */
const rawConnections = new Map<string, RTCPeerConnection>();
const rawChannels = new Map<string, RTCDataChannel>();
/** Connections this page answered (it receives on them; held here so they stay open). */
const answered: RTCPeerConnection[] = [];
let rawReceived = 0;
let edge: NetworkEdge | null = null;
let edgeReceived = 0;
/** Bytes expected by the current measurement; the moment each kind reached it (epoch ms, sub-ms precision). */
let target = Infinity;
let rawDoneAt: number | null = null;
let edgeDoneAt: number | null = null;
/** Epoch time comparable across the two pages (same machine), unlike each page's own performance.now(). */
const clock = (): number => performance.timeOrigin + performance.now();
const edgeUp = new Set<string>();
let joined = false;

async function gathered(conn: RTCPeerConnection): Promise<RTCSessionDescriptionInit> {
  if (conn.iceGatheringState !== 'complete') {
    await new Promise<void>((r) => conn.addEventListener('icegatheringstatechange', () => conn.iceGatheringState === 'complete' && r()));
  }
  return { type: conn.localDescription!.type, sdp: conn.localDescription!.sdp };
}

function receiveRaw(channel: RTCDataChannel): void {
  channel.binaryType = 'arraybuffer';
  channel.onmessage = (e) => {
    rawReceived += (e.data as ArrayBuffer).byteLength;
    if (rawReceived >= target && rawDoneAt === null) rawDoneAt = clock();
  };
}

const api = {
  /** Opens a raw channel named `id` (one per receiving page) and returns its offer. */
  async rawOffer(id = 'raw'): Promise<RTCSessionDescriptionInit> {
    const pc = new RTCPeerConnection({ iceServers: [] });
    const channel = pc.createDataChannel('raw');
    channel.binaryType = 'arraybuffer';
    rawConnections.set(id, pc);
    rawChannels.set(id, channel);
    await pc.setLocalDescription(await pc.createOffer());
    return gathered(pc);
  },
  async rawAnswer(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit> {
    const pc = new RTCPeerConnection({ iceServers: [] });
    answered.push(pc);
    pc.ondatachannel = (e) => receiveRaw(e.channel);
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription(await pc.createAnswer());
    return gathered(pc);
  },
  async rawAccept(answer: RTCSessionDescriptionInit, id = 'raw'): Promise<void> {
    await rawConnections.get(id)!.setRemoteDescription(answer);
    const channel = rawChannels.get(id)!;
    if (channel.readyState !== 'open') await new Promise<void>((r) => channel.addEventListener('open', () => r(), { once: true }));
  },
  /**
   * Sends `total` bytes in `size`-byte messages over each of the raw channels `ids` at once, with bufferedAmount
   * backpressure; returns when it started.
   */
  async rawSend(size: number, total: number, ids: readonly string[] = ['raw']): Promise<number> {
    const startedAt = clock();
    const payload = new Uint8Array(size).fill(1);
    await Promise.all(ids.map(async (id) => {
      const channel = rawChannels.get(id)!;
      channel.bufferedAmountLowThreshold = HIGH_WATER / 4;
      for (let sent = 0; sent < total; ) {
        if (channel.bufferedAmount > HIGH_WATER) {
          await new Promise<void>((r) => channel.addEventListener('bufferedamountlow', () => r(), { once: true }));
          continue;
        }
        channel.send(payload);
        sent += size;
      }
    }));
    return startedAt;
  },
  received(): { raw: number; edge: number; rawDoneAt: number | null; edgeDoneAt: number | null } {
    return { raw: rawReceived, edge: edgeReceived, rawDoneAt, edgeDoneAt };
  },
  /** Starts a measurement that ends when `expected` bytes have arrived. */
  reset(expected = Infinity): void {
    rawReceived = 0;
    edgeReceived = 0;
    target = expected;
    rawDoneAt = null;
    edgeDoneAt = null;
  },
  async edgeStart(wsUrl: string): Promise<string> {
    const identity = await generateIdentity();
    edge = new NetworkEdge({
      signalingUrl: wsUrl, iceServers: [], maxConnections: 4, platform: browserPlatform(),
      events: {
        onPeerUp: (p) => edgeUp.add(p), onPeerDown: (p) => edgeUp.delete(p),
        onFrame: (_from, frame) => {
          edgeReceived += frame.byteLength;
          if (edgeReceived >= target && edgeDoneAt === null) edgeDoneAt = clock();
        },
        onBootstrap: () => {}, onSignalingState: (s) => (joined = s === 'joined'), onLog: () => {},
      },
      authenticator: { peerId: identity.peerId, publicKey: identity.publicKey, cloud: 'bench', ...identityAuthority(identity, () => null) },
    });
    edge.start();
    return identity.peerId;
  },
  edgeState(): { joined: boolean; up: string[] } {
    return { joined, up: [...edgeUp] };
  },
  edgeConnect(peer: string): void {
    edge!.connect(peer);
  },
  /** Sends `total` bytes as `size`-byte frames (the edge queues them and drains with backpressure); returns when it started. */
  async edgeSend(to: string, size: number, total: number): Promise<number> {
    const startedAt = clock();
    const frame = new Uint8Array(size).fill(2);
    for (let sent = 0; sent < total; sent += size) {
      if (!edge!.send(to, frame)) throw new Error('E_BENCH_SEND_REFUSED: the edge refused a frame');
      // Yield now and then so the edge's queue drains; the edge itself caps its queue.
      if ((sent / size) % 64 === 63) await new Promise((r) => setTimeout(r, 0));
    }
    return startedAt;
  },
};

(window as unknown as { transportBench: typeof api }).transportBench = api;
export type TransportBenchApi = typeof api;
