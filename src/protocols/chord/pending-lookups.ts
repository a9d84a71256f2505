/**
 * The origin's book of lookups under way: what each request is for (a caller's lookup, a finger, a join), when it
 * was last sent (in ticks), and how many attempts it has had. A lookup that gets no answer within `timeoutTicks`
 * is sent again from scratch (by then dead hops have been dropped from the tables) until `attempts` run out.
 */
import type { PeerId } from '../../core/ids.ts';
import { MAX_REQUEST_ID } from '../../wire/chord.ts';

export type LookupPurpose =
  | { readonly kind: 'user'; readonly requestId: string }
  | { readonly kind: 'finger'; readonly index: number }
  | { readonly kind: 'join'; readonly via: PeerId }
  /** A periodic lookup of the node's own id through a random peer, to find a ring it is not part of. */
  | { readonly kind: 'merge'; readonly via: PeerId };

export interface PendingLookup {
  readonly id: number;
  readonly key: string;
  readonly keyPos: bigint;
  readonly purpose: LookupPurpose;
  sentAt: number;
  attempts: number;
}

/** A finished caller's lookup, as the runtime collects it with Chord.takeCompleted(). */
export type LookupResult =
  | { readonly ok: true; readonly requestId: string; readonly key: string; readonly owner: PeerId; readonly hops: number; readonly attempts: number }
  | { readonly ok: false; readonly requestId: string; readonly key: string; readonly code: 'E_CHORD_LOOKUP_TIMEOUT' | 'E_CHORD_BAD_KEY'; readonly attempts: number };

/** Lookups given up on that are still recognised when their answer comes late; the oldest are forgotten beyond. */
const MAX_GIVEN_UP = 64;

export class PendingLookups {
  private readonly byId = new Map<number, PendingLookup>();
  /** Lookups given up on lately (giveUp), so a late answer can be told from one nobody asked for. */
  private readonly givenUp = new Map<number, PendingLookup>();
  private nextId = 0;

  open(key: string, keyPos: bigint, purpose: LookupPurpose, now: number): PendingLookup {
    let id = this.nextId;
    while (this.byId.has(id) || this.givenUp.has(id)) id = (id + 1) % (MAX_REQUEST_ID + 1);
    this.nextId = (id + 1) % (MAX_REQUEST_ID + 1);
    const p: PendingLookup = { id, key, keyPos, purpose, sentAt: now, attempts: 1 };
    this.byId.set(id, p);
    return p;
  }

  /** Closes and returns the lookup an answer belongs to; undefined for unknown ids or a key that does not match. */
  close(id: number, key: string): PendingLookup | undefined {
    const p = this.byId.get(id);
    if (!p || p.key !== key) return undefined;
    this.byId.delete(id);
    return p;
  }

  /** Lookups whose last attempt is older than `timeoutTicks` at tick `now`. */
  overdue(now: number, timeoutTicks: number): PendingLookup[] {
    const out: PendingLookup[] = [];
    for (const p of this.byId.values()) if (now - p.sentAt >= timeoutTicks) out.push(p);
    return out;
  }

  /** Stops waiting for a lookup; an answer that still comes for it is recognised by `closeGivenUp`. */
  giveUp(id: number): void {
    const p = this.byId.get(id);
    if (!p) return;
    this.byId.delete(id);
    this.givenUp.set(id, p);
    if (this.givenUp.size > MAX_GIVEN_UP) this.givenUp.delete(this.givenUp.keys().next().value!);
  }

  /** The lookup a late answer belongs to, if it was given up on lately; undefined for answers nobody asked for. */
  closeGivenUp(id: number, key: string): PendingLookup | undefined {
    const p = this.givenUp.get(id);
    if (!p || p.key !== key) return undefined;
    this.givenUp.delete(id);
    return p;
  }

  some(test: (p: PendingLookup) => boolean): boolean {
    for (const p of this.byId.values()) if (test(p)) return true;
    return false;
  }

  get size(): number {
    return this.byId.size;
  }
}
