/**
 * Overlay signaling: once a node has authenticated links, it signals new WebRTC connections through them, so the
 * signaling server is needed only to join (the overlay outlives it). A signal travels as a `relay` control
 * message {id, session, from, to, ttl, data}:
 *
 * - a node linked to `to` hands it over; a node that knows a route to `to` (the hop a message from `to` last
 *   came through) sends it there, so answers retrace the offer's path; otherwise it floods to a few links;
 * - TTL at most MAX_RELAY_TTL, duplicates dropped by id, relays rate limited per link (token bucket).
 *
 * Relays are untrusted: `from` is only a claim. The edge answers an offer only with a link whose handshake must
 * then prove to be that very peer.
 */
import { shortId, type PeerId } from '../core/ids.ts';
import { createRng, type Rng } from '../core/rng.ts';
import type { SignalData } from '../wire/signaling.ts';
import { LINK_VERSION, MAX_RELAY_TTL, type RelayMessage } from './link-messages.ts';

export interface OverlayTransport {
  readonly self: PeerId;
  /** Peers with an authenticated link. */
  linkedPeers(): PeerId[];
  sendRelay(via: PeerId, message: RelayMessage): boolean;
  deliver(from: PeerId, session: string, data: SignalData): void;
  log(level: 'info' | 'warn', text: string): void;
}

export interface OverlayOptions {
  /** Links a relay floods to when it knows no route. */
  readonly fanout?: number;
  readonly relaysPerSecond?: number;
  readonly burst?: number;
  readonly memoryMs?: number;
  readonly now?: () => number;
  readonly seed?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_REMEMBERED = 4096;

export class OverlaySignaling {
  private readonly seen = new Map<string, number>();
  private readonly routes = new Map<PeerId, { hop: PeerId; at: number }>();
  private readonly buckets = new Map<PeerId, Bucket>();
  private readonly rng: Rng;
  private readonly fanout: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly memoryMs: number;
  private readonly now: () => number;
  private readonly tag: string;
  private seq = 0;
  private dropped = 0;

  constructor(
    private readonly transport: OverlayTransport,
    options: OverlayOptions = {},
  ) {
    this.fanout = options.fanout ?? 3;
    this.rate = options.relaysPerSecond ?? 50;
    this.burst = options.burst ?? 100;
    this.memoryMs = options.memoryMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.rng = createRng(options.seed ?? this.now());
    this.tag = `${shortId(transport.self)}.${this.rng.int(0x7fffffff).toString(36)}`;
  }

  /** Originates a signal to `to`. False when there is no link to send it through. */
  send(to: PeerId, session: string, data: SignalData): boolean {
    const message: RelayMessage = { t: 'relay', v: LINK_VERSION, id: `${this.tag}.${this.seq++}`, session, from: this.transport.self, to, ttl: MAX_RELAY_TTL, data };
    this.remember(message.id);
    return this.forward(message, null) > 0;
  }

  /** A relay message arrived on the authenticated link to `via`. */
  receive(via: PeerId, message: RelayMessage): void {
    if (!this.allow(via)) {
      if (this.dropped++ % 100 === 0) this.transport.log('warn', `E_RELAY_RATE_LIMITED: dropping relays from ${shortId(via)}`);
      return;
    }
    if (this.seen.has(message.id) || message.from === this.transport.self) return;
    this.remember(message.id);
    this.routes.set(message.from, { hop: via, at: this.now() });
    if (message.to === this.transport.self) {
      this.transport.deliver(message.from, message.session, message.data);
      return;
    }
    if (message.ttl <= 0) return;
    this.forward({ ...message, ttl: message.ttl - 1 }, via);
  }

  /** Forgets routes through a peer whose link went down. */
  linkDown(peer: PeerId): void {
    for (const [target, route] of this.routes) if (route.hop === peer || target === peer) this.routes.delete(target);
    this.buckets.delete(peer);
  }

  private forward(message: RelayMessage, cameFrom: PeerId | null): number {
    const linked = this.transport.linkedPeers();
    if (linked.includes(message.to)) return this.transport.sendRelay(message.to, message) ? 1 : 0;
    const route = this.routes.get(message.to);
    if (route && this.now() - route.at < this.memoryMs && route.hop !== cameFrom && linked.includes(route.hop)) {
      if (this.transport.sendRelay(route.hop, message)) return 1;
    }
    const candidates = linked.filter((p) => p !== cameFrom && p !== message.from);
    let sent = 0;
    for (const hop of this.rng.sample(candidates, this.fanout)) if (this.transport.sendRelay(hop, message)) sent++;
    return sent;
  }

  private allow(via: PeerId): boolean {
    const now = this.now();
    const bucket = this.buckets.get(via) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.buckets.set(via, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private remember(id: string): void {
    const now = this.now();
    this.seen.set(id, now);
    if (this.seen.size <= MAX_REMEMBERED) return;
    for (const [key, at] of this.seen) {
      if (this.seen.size <= MAX_REMEMBERED / 2 && now - at < this.memoryMs) break;
      this.seen.delete(key);
    }
    for (const [target, route] of this.routes) if (now - route.at >= this.memoryMs) this.routes.delete(target);
  }
}
