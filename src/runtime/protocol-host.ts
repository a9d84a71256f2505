/**
 * Runs pure protocols at the edge of the real world: feeds them ticks and validated messages with a context
 * built from the runtime's clock and seeded rng, and turns their `send` effects into frames. A message to a peer
 * that has no link yet is held briefly while the link is opened (protocols address peers, not connections).
 * A slot may ask for its first cycle as soon as the node's first link opens, instead of on the next tick (a
 * joining node's first gossip exchange then does not wait up to a whole period).
 */
import type { PeerId } from '../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../core/protocol.ts';
import type { Decoded } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import { encodeFrame } from '../wire/frame.ts';

export interface ProtocolSlot<M> {
  readonly protocol: Protocol<M>;
  readonly version: number;
  readonly decode: (m: unknown) => Decoded<M>;
  /** Run one extra cycle (onTick) when the node's first link opens. */
  readonly cycleOnFirstLink?: boolean;
}

export interface ProtocolHostDeps {
  readonly self: PeerId;
  readonly rng: Rng;
  readonly now: () => number;
  /** Sends a frame over an existing link; false when there is none. */
  readonly sendFrame: (to: PeerId, frame: Uint8Array) => boolean;
  /** Asks the edge for a link. */
  readonly connect: (to: PeerId) => void;
  readonly log: (level: 'info' | 'warn', text: string) => void;
  /** How long a message waits for a link to open before the peer is declared unreachable. */
  readonly pendingTimeoutMs: number;
}

interface Pending {
  readonly since: number;
  readonly frames: Uint8Array[];
}

const MAX_PENDING_FRAMES_PER_PEER = 32;

export class ProtocolHost {
  private readonly slots = new Map<string, ProtocolSlot<unknown>>();
  private readonly pending = new Map<PeerId, Pending>();
  private hadLink = false;
  rejected = 0;

  constructor(private readonly deps: ProtocolHostDeps) {}

  add<M>(slot: ProtocolSlot<M>): void {
    this.slots.set(slot.protocol.name, slot as ProtocolSlot<unknown>);
  }

  tick(): void {
    this.expirePending();
    for (const slot of this.slots.values()) this.apply(slot, slot.protocol.onTick(this.ctx()));
  }

  /** A decoded envelope from a peer, routed to its protocol. Returns false if no protocol took it. */
  deliver(from: PeerId, p: string, v: number, m: unknown): boolean {
    const slot = this.slots.get(p);
    if (!slot) return false;
    if (v !== slot.version) {
      this.rejected++;
      this.deps.log('warn', `dropped ${p} v${v} message from ${from.slice(0, 8)}: E_BAD_VERSION (expected v${slot.version})`);
      return true;
    }
    const decoded = slot.decode(m);
    if (!decoded.ok) {
      this.rejected++;
      this.deps.log('warn', `dropped ${p} message from ${from.slice(0, 8)}: ${decoded.code}: ${decoded.reason}`);
      return true;
    }
    this.apply(slot, slot.protocol.onMessage(this.ctx(), from, decoded.value));
    return true;
  }

  /** Runs `fn` as protocol `name` outside a tick (e.g. an API call) and carries out its effects. */
  run<M>(name: string, fn: (ctx: ProtocolContext) => Effect<M>[]): void {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`E_UNKNOWN_PROTOCOL: no protocol "${name}" on this node`);
    this.apply(slot, fn(this.ctx()) as Effect<unknown>[]);
  }

  peerUp(peer: PeerId): void {
    for (const slot of this.slots.values()) {
      if (slot.protocol.onPeersDiscovered) this.apply(slot, slot.protocol.onPeersDiscovered(this.ctx(), [peer]));
    }
    const waiting = this.pending.get(peer);
    if (waiting) {
      this.pending.delete(peer);
      for (const frame of waiting.frames) this.deps.sendFrame(peer, frame);
    }
    if (this.hadLink) return;
    this.hadLink = true;
    for (const slot of this.slots.values()) if (slot.cycleOnFirstLink) this.apply(slot, slot.protocol.onTick(this.ctx()));
  }

  /** The peer's link closed, or it could not be reached: every protocol forgets it. */
  peerDown(peer: PeerId): void {
    this.pending.delete(peer);
    for (const slot of this.slots.values()) {
      if (slot.protocol.onPeerDown) this.apply(slot, slot.protocol.onPeerDown(this.ctx(), peer));
    }
  }

  discovered(peers: readonly PeerId[]): void {
    const others = peers.filter((p) => p !== this.deps.self);
    for (const slot of this.slots.values()) {
      if (slot.protocol.onPeersDiscovered) this.apply(slot, slot.protocol.onPeersDiscovered(this.ctx(), others));
    }
  }

  private ctx(): ProtocolContext {
    return { self: this.deps.self, now: this.deps.now(), rng: this.deps.rng };
  }

  private apply(slot: ProtocolSlot<unknown>, effects: readonly Effect<unknown>[]): void {
    for (const effect of effects) {
      if (effect.kind === 'log') {
        this.deps.log(effect.level, `${slot.protocol.name}: ${effect.text}`);
        continue;
      }
      if (effect.to === this.deps.self) continue;
      const frame = encodeFrame({ p: slot.protocol.name, v: slot.version, m: effect.msg });
      if (this.deps.sendFrame(effect.to, frame)) continue;
      this.hold(effect.to, frame);
    }
  }

  private hold(peer: PeerId, frame: Uint8Array): void {
    const waiting = this.pending.get(peer);
    if (waiting) {
      if (waiting.frames.length < MAX_PENDING_FRAMES_PER_PEER) waiting.frames.push(frame);
      return;
    }
    this.pending.set(peer, { since: this.deps.now(), frames: [frame] });
    this.deps.connect(peer);
  }

  private expirePending(): void {
    const now = this.deps.now();
    for (const [peer, waiting] of this.pending) {
      if (now - waiting.since < this.deps.pendingTimeoutMs) continue;
      this.deps.log('info', `peer ${peer.slice(0, 8)} unreachable: no link within ${this.deps.pendingTimeoutMs} ms`);
      this.peerDown(peer);
    }
  }
}
