/**
 * A simulated transport with what a browser peer's links do to Chord (src/runtime/protocol-host.ts,
 * src/net/edge.ts), for the 32-peer ring simulations: a message to a peer it holds no link to waits while one is
 * dialed (a dial takes [dialMinMs, dialMaxMs]; later messages to the same peer wait for the same dial, at most 32
 * of them, as ProtocolHost holds them); a dial fails with probability `dialFailP`, and then every waiting message
 * is lost and, `failAfterMs` later (the edge's connect timeout), the sender's protocols hear onPeerDown for the
 * peer — although the peer is alive. Each node keeps at most `cap` links; the link that makes one too many closes
 * the least recently used one older than 2 s (eviction: no onPeerDown, as NodeCore does for EVICTED_REASON).
 * Background dials (`churn`) stand for Cyclon's shuffles, which open links to random peers every tick.
 * Deterministic: its own seeded rng, and time from the engine.
 */
import type { PeerId } from '../../src/core/ids.ts';
import type { Rng } from '../../src/core/rng.ts';
import type { SimEnvelope, Transport } from '../../src/sim/transport.ts';

export interface BrowserLinkOptions {
  readonly cap: number;
  readonly dialMinMs: number;
  readonly dialMaxMs: number;
  readonly dialFailP: number;
  readonly failAfterMs: number;
  /** One-way delay of a message on an open link, [min, max] ms. */
  readonly latencyMs: readonly [number, number];
}

interface Dial {
  readonly readyAt: number;
  readonly failed: boolean;
  held: number;
}

export interface PeerDownReport {
  readonly at: number;
  readonly node: PeerId;
  readonly peer: PeerId;
}

const MAX_HELD = 32;
const EVICT_MIN_AGE_MS = 2_000;

export class BrowserLinks implements Transport {
  /** Per node: linked peer → [opened at, last used]. */
  private readonly links = new Map<PeerId, Map<PeerId, [number, number]>>();
  private readonly dials = new Map<string, Dial>();
  private downs: PeerDownReport[] = [];
  readonly stats = { dials: 0, failedDials: 0, evictions: 0, heldTooMany: 0 };

  constructor(
    private readonly rng: Rng,
    private readonly options: BrowserLinkOptions,
    private readonly now: () => number,
  ) {}

  route(env: SimEnvelope): number | null {
    const now = this.now();
    const [lo, hi] = this.options.latencyMs;
    const base = lo + this.rng.next() * (hi - lo);
    if (this.linked(env.from, env.to, now)) return base;
    const key = pairKey(env.from, env.to);
    let dial = this.dials.get(key);
    if (!dial) dial = this.startDial(env.from, env.to, now);
    if (dial.failed) return null;
    if (++dial.held > MAX_HELD) {
      this.stats.heldTooMany++;
      return null;
    }
    return Math.max(base, dial.readyAt - now + base);
  }

  /** A background dial (Cyclon's shuffle partner): the pair gets a link if it has none. */
  touch(a: PeerId, b: PeerId): void {
    if (a === b || this.linked(a, b, this.now()) || this.dials.has(pairKey(a, b))) return;
    this.startDial(a, b, this.now());
  }

  /** The onPeerDown reports due by now (dials that failed), oldest first; each is handed out once. */
  takeDue(now: number): PeerDownReport[] {
    const due = this.downs.filter((d) => d.at <= now);
    this.downs = this.downs.filter((d) => d.at > now);
    return due;
  }

  linkCount(node: PeerId): number {
    return this.links.get(node)?.size ?? 0;
  }

  private startDial(from: PeerId, to: PeerId, now: number): Dial {
    this.stats.dials++;
    const failed = this.rng.next() < this.options.dialFailP;
    const { dialMinMs, dialMaxMs } = this.options;
    const dial: Dial = { readyAt: now + dialMinMs + this.rng.next() * (dialMaxMs - dialMinMs), failed, held: 0 };
    this.dials.set(pairKey(from, to), dial);
    if (failed) {
      this.stats.failedDials++;
      this.downs.push({ at: now + this.options.failAfterMs, node: from, peer: to });
    }
    return dial;
  }

  /** Whether a and b hold a link at `now`; a dial that has come through becomes one (and may evict). */
  private linked(a: PeerId, b: PeerId, now: number): boolean {
    const mine = this.links.get(a)?.get(b);
    if (mine) {
      mine[1] = now;
      this.links.get(b)?.get(a)?.splice(1, 1, now);
      return true;
    }
    const key = pairKey(a, b);
    const dial = this.dials.get(key);
    if (!dial) return false;
    if (dial.failed) {
      if (now < dial.readyAt + this.options.failAfterMs) return false;
      this.dials.delete(key); // the failure was reported: the next message dials again
      return false;
    }
    if (now < dial.readyAt) return false;
    this.dials.delete(key);
    this.open(a, b, now);
    this.open(b, a, now);
    return true;
  }

  private open(node: PeerId, peer: PeerId, now: number): void {
    let mine = this.links.get(node);
    if (!mine) this.links.set(node, (mine = new Map()));
    mine.set(peer, [now, now]);
    if (mine.size <= this.options.cap) return;
    let victim: PeerId | undefined;
    let oldest = Infinity;
    for (const [p, [opened, used]] of mine) {
      if (p === peer || now - opened < EVICT_MIN_AGE_MS) continue;
      if (used < oldest) {
        oldest = used;
        victim = p;
      }
    }
    if (victim === undefined) return;
    this.stats.evictions++;
    mine.delete(victim);
    this.links.get(victim)?.delete(node);
  }
}

function pairKey(a: PeerId, b: PeerId): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}
