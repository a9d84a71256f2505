/**
 * One WebRTC link to one peer: a simple-peer instance (trickle ICE) whose data channel we drive ourselves.
 * simple-peer's stream write path is slow (BROWSER.md: 3.8 vs 31 MB/s at 16 KiB), so messages go on the raw
 * RTCDataChannel with our own bufferedAmount backpressure: a two-lane queue (link-send-queue.ts: small messages
 * overtake the fragments of large frames) drained on `bufferedamountlow`.
 * Incoming messages are taken off the raw channel too, sorted into control messages and reassembled frames.
 * simple-peer already queues remote ICE candidates until the remote description is set (index.js `signal`).
 */
import type SimplePeer from 'simple-peer';
import type { SignalData } from '../wire/signaling.ts';
import { Reassembler, splitFrame } from './fragmenter.ts';
import { LinkSendQueue } from './link-send-queue.ts';
import { decodeLinkMessage, encodeControl, type ControlMessage } from './link-messages.ts';
import type { EdgePlatform } from './platform.ts';
import { markJoin } from './join-marks.ts';

export const HIGH_WATER_BYTES = 1024 * 1024;
export const LOW_WATER_BYTES = 256 * 1024;
/** Beyond this much queued, sends are refused (the peer is not keeping up). */
export const MAX_QUEUED_BYTES = 160 * 1024 * 1024;

export interface PeerLinkEvents {
  signal(data: SignalData): void;
  /** The data channel is open (handshake not yet done). */
  open(): void;
  control(message: ControlMessage): void;
  frame(frame: Uint8Array): void;
  /** Something malformed arrived; it was dropped. */
  rejected(code: string, reason: string): void;
  closed(reason: string): void;
}

/** The parts of simple-peer's instance and the channel we use that its typings do not show. */
interface RawChannel {
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  onmessage: ((event: { data: unknown }) => void) | null;
  addEventListener(type: 'bufferedamountlow', fn: () => void): void;
  send(data: Uint8Array): void;
}
interface SimplePeerInternals {
  _channel: RawChannel | null;
  _pc: {
    ondatachannel: ((event: unknown) => void) | null;
    readonly connectionState: string;
    readonly iceConnectionState: string;
    readonly iceGatheringState: string;
    readonly signalingState: string;
    addEventListener(type: 'connectionstatechange' | 'iceconnectionstatechange', fn: () => void): void;
  } | null;
}

export class PeerLink {
  private readonly peer: SimplePeer.Instance;
  private readonly reassembler = new Reassembler();
  private channel: RawChannel | null = null;
  /** Messages waiting for room in the channel's buffer. */
  private readonly queue = new LinkSendQueue(MAX_QUEUED_BYTES);
  private nextMessageId = 1;
  private closed = false;
  private connected = false;
  private drainTimer: ReturnType<typeof setTimeout> | null = null;
  /** Messages that beat simple-peer's 'connect' event (the other side opened first); delivered after open(). */
  private early: Uint8Array[] | null = [];

  constructor(platform: EdgePlatform, iceServers: RTCIceServer[], initiator: boolean, private readonly events: PeerLinkEvents) {
    this.peer = new platform.SimplePeer({ initiator, trickle: true, config: { iceServers }, ...(platform.wrtc ? { wrtc: platform.wrtc } : {}) });
    const internals = this.peer as unknown as SimplePeerInternals;
    if (internals._channel) this.takeOver(internals._channel);
    else if (internals._pc) {
      // The answerer's channel arrives later; simple-peer sets it up in ondatachannel, then we take it over.
      const pc = internals._pc;
      const original = pc.ondatachannel;
      pc.ondatachannel = (event) => {
        original?.(event);
        if (internals._channel) this.takeOver(internals._channel);
      };
    }
    // simple-peer misses a connection that closes or fails before its channel opens (seen with node-datachannel).
    const pc = internals._pc;
    pc?.addEventListener('connectionstatechange', () => {
      const state = pc.connectionState;
      if (state === 'failed' || state === 'closed') this.finish(`E_WEBRTC_FAILED: connection ${state}`);
    });
    pc?.addEventListener('iceconnectionstatechange', () => {
      if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') markJoin('ice-connected');
    });
    this.peer.on('signal', (data: SignalData) => this.events.signal(data));
    this.peer.on('connect', () => {
      this.connected = true;
      this.events.open();
      const early = this.early ?? [];
      this.early = null;
      for (const bytes of early) this.dispatch(bytes);
      this.flush();
    });
    this.peer.on('close', () => this.finish('channel closed'));
    this.peer.on('error', (err: Error & { code?: string }) => this.finish(`${err.code ?? 'ERR_WEBRTC'}: ${err.message}`));
  }

  get isOpen(): boolean {
    return this.connected && !this.closed;
  }

  /** Nothing waiting to be sent (so closing it loses nothing in flight). */
  get isIdle(): boolean {
    return this.queue.isEmpty && (this.channel?.bufferedAmount ?? 0) === 0;
  }

  /** The WebRTC connection's states, for messages about links that do not come up. */
  describe(): string {
    const pc = (this.peer as unknown as SimplePeerInternals)._pc;
    if (!pc) return 'no peer connection';
    return `signaling ${pc.signalingState}, ICE gathering ${pc.iceGatheringState}, ICE ${pc.iceConnectionState}, connection ${pc.connectionState}, channel ${this.channel?.readyState ?? 'none'}`;
  }

  signal(data: SignalData): void {
    if (this.closed) return;
    try {
      this.peer.signal(data as SimplePeer.SignalData);
    } catch (err) {
      this.events.rejected('E_SIGNAL_REJECTED', String(err));
    }
  }

  sendControl(message: ControlMessage): boolean {
    return this.enqueue('urgent', [encodeControl(message)]);
  }

  /**
   * Queues the frame's chunks. A frame that fits one chunk is urgent: it goes straight to the channel when no
   * other small message waits, even while a large frame's fragments do, and otherwise ahead of those fragments.
   */
  sendFrame(frame: Uint8Array): boolean {
    const id = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId + 1) >>> 0;
    const chunks = splitFrame(id, frame);
    if (chunks.length > 1) return this.enqueue('bulk', chunks);
    if (this.queue.urgentIsEmpty && this.hasRoom()) return this.sendNow(chunks[0]!);
    return this.enqueue('urgent', chunks);
  }

  close(): void {
    this.finish('closed locally');
  }

  private takeOver(channel: RawChannel): void {
    this.channel = channel;
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    channel.onmessage = (event) => this.receive(event.data);
    channel.addEventListener('bufferedamountlow', () => this.flush());
  }

  private receive(data: unknown): void {
    if (this.closed) return;
    let bytes: Uint8Array;
    // A message's ArrayBuffer is ours (browsers and node-datachannel's polyfill hand over a fresh one), so frames
    // may be views into it; a view from some other stack may share memory, so it is copied once.
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    else return this.events.rejected('E_LINK_MALFORMED', 'text message on a binary link');
    if (this.early) {
      if (this.early.length >= 256) return this.events.rejected('E_LINK_FLOOD', 'too many messages before the link opened');
      this.early.push(bytes);
    } else this.dispatch(bytes);
  }

  private dispatch(bytes: Uint8Array): void {
    if (this.closed) return;
    const decoded = decodeLinkMessage(bytes);
    if (!decoded.ok) return this.events.rejected(decoded.code, decoded.reason);
    if (decoded.value.kind === 'control') return this.events.control(decoded.value.message);
    const frame = this.reassembler.accept(decoded.value.bytes);
    if (!frame.ok) return this.events.rejected(frame.code, frame.reason);
    if (frame.value) this.events.frame(frame.value);
  }

  private hasRoom(): boolean {
    const channel = this.channel;
    return this.connected && !this.closed && channel !== null && channel.readyState === 'open' && channel.bufferedAmount < HIGH_WATER_BYTES;
  }

  private sendNow(message: Uint8Array): boolean {
    try {
      this.channel!.send(message);
      return true;
    } catch (err) {
      this.finish(`ERR_DATA_CHANNEL: send failed: ${String(err)}`);
      return false;
    }
  }

  private enqueue(lane: 'urgent' | 'bulk', messages: Uint8Array[]): boolean {
    if (this.closed) return false;
    if (!this.queue.push(lane, messages)) return false;
    this.flush();
    return true;
  }

  private flush(): void {
    const channel = this.channel;
    if (!this.connected || this.closed || !channel || channel.readyState !== 'open') return;
    const queue = this.queue;
    try {
      while (!queue.isEmpty && channel.bufferedAmount < HIGH_WATER_BYTES) channel.send(queue.shift()!);
    } catch (err) {
      return this.finish(`ERR_DATA_CHANNEL: send failed: ${String(err)}`);
    }
    // `bufferedamountlow` drives the drain; a slow poll covers stacks that miss the event.
    if (!queue.isEmpty && this.drainTimer === null) {
      this.drainTimer = setTimeout(() => {
        this.drainTimer = null;
        this.flush();
      }, 50);
    }
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.queue.clear();
    try {
      this.peer.destroy();
    } catch {
      // already destroyed
    }
    this.events.closed(reason);
  }
}
