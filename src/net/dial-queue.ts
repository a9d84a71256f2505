/**
 * Dials waiting for a free slot. On a loaded machine, many WebRTC connections set up at once stall each other
 * (each runs its ICE checks and DTLS handshake on the same cores; at 32 peers on 2 cores dials timed out with
 * ICE still `checking`), so the edge runs only a few dials at once and queues the rest, first come first served.
 * A dial that waited longer than `maxWaitMs` is given up instead of started late (the caller reports it down).
 */
import type { PeerId } from '../core/ids.ts';

export class DialQueue {
  private readonly waiting = new Map<PeerId, number>();

  constructor(
    private readonly maxWaitMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  has(peer: PeerId): boolean {
    return this.waiting.has(peer);
  }

  /** Queues a dial (a peer already waiting keeps its place). */
  add(peer: PeerId): void {
    if (!this.waiting.has(peer)) this.waiting.set(peer, this.now());
  }

  delete(peer: PeerId): void {
    this.waiting.delete(peer);
  }

  /** The next dial to start, skipping (and handing to `expired`) those that waited too long; null if none. */
  next(expired: (peer: PeerId, waitedMs: number) => void): PeerId | null {
    const now = this.now();
    for (const [peer, since] of this.waiting) {
      this.waiting.delete(peer);
      if (now - since <= this.maxWaitMs) return peer;
      expired(peer, now - since);
    }
    return null;
  }

  clear(): void {
    this.waiting.clear();
  }
}
