/**
 * Slice allocation, the pure part (P2PCS run-instances: "allocate n nodes matching the query"). Two sides:
 *
 * - ClaimTable, held by every node: it grants at most ONE live claim at a time, first come. A granted claim is a
 *   lease of `claimLeaseCycles`; a commit turns it into membership, whose lease is renewed whenever the slice's
 *   members or owner speak to this node (`renew`), and expires after `memberLeaseCycles` of silence. A node that
 *   holds a live claim refuses every other. So two slices can never share a node, whatever the interleaving.
 * - Allocation, held by a requester for one request: it claims candidates one by one, at most n outstanding
 *   claims plus grants at a time, moving to the next candidate on each refusal or timeout. It succeeds once n are
 *   granted and fails when the candidates run out (no retries: the caller releases what it got and reports).
 *
 * Time is counted in cycles (the service's ticks), so the logic is deterministic and unit-testable.
 */
import type { PeerId } from '../../core/ids.ts';

export interface Holding {
  readonly slice: string;
  readonly owner: PeerId;
  /** Cycle after which the lease lapses. */
  readonly until: number;
  readonly committed: boolean;
}

export type ClaimAnswer = { readonly granted: true } | { readonly granted: false; readonly held: string };

export interface ClaimTableOptions {
  readonly claimLeaseCycles?: number;
  readonly memberLeaseCycles?: number;
}

export class ClaimTable {
  private holding: Holding | null = null;
  readonly claimLeaseCycles: number;
  readonly memberLeaseCycles: number;

  constructor(options: ClaimTableOptions = {}) {
    this.claimLeaseCycles = options.claimLeaseCycles ?? 20;
    this.memberLeaseCycles = options.memberLeaseCycles ?? 30;
  }

  /** The live claim or membership, if any (call `expire` first to drop a lapsed one). */
  current(): Holding | null {
    return this.holding;
  }

  /** The slice this node is a committed member of. */
  memberOf(): string | null {
    return this.holding?.committed ? this.holding.slice : null;
  }

  /** First come: granted when free, or when the same owner re-claims for the same slice. */
  claim(slice: string, owner: PeerId, cycle: number): ClaimAnswer {
    this.expire(cycle);
    const h = this.holding;
    if (h && !(h.slice === slice && h.owner === owner)) return { granted: false, held: h.slice };
    if (h?.committed) return { granted: true };
    this.holding = { slice, owner, until: cycle + this.claimLeaseCycles, committed: false };
    return { granted: true };
  }

  /**
   * The requester confirms: the claim becomes membership of `owner`'s slice. Accepted when this node holds the
   * claim for that slice (made by the owner or a member adding instances), or is free again (the claim lapsed
   * but nobody else took it); refused when held by another slice.
   */
  commit(slice: string, owner: PeerId, cycle: number): boolean {
    this.expire(cycle);
    const h = this.holding;
    if (h && h.slice !== slice) return false;
    this.holding = { slice, owner, until: cycle + this.memberLeaseCycles, committed: true };
    return true;
  }

  /** Members or the owner of our slice spoke: the membership lease runs on. */
  renew(slice: string, cycle: number): void {
    const h = this.holding;
    if (h?.committed && h.slice === slice) this.holding = { ...h, until: Math.max(h.until, cycle + this.memberLeaseCycles) };
  }

  /** Frees this node if it is held by `slice`. Returns whether it was. */
  release(slice: string): boolean {
    if (this.holding?.slice !== slice) return false;
    this.holding = null;
    return true;
  }

  /** Drops a lapsed lease; returns it so the caller can log and forget the slice. */
  expire(cycle: number): Holding | null {
    const h = this.holding;
    if (!h || h.until >= cycle) return null;
    this.holding = null;
    return h;
  }
}

export type AllocationStatus = 'running' | 'done' | 'failed';

export interface AllocationOptions {
  /** Candidates in order of preference (best first). */
  readonly candidates: readonly PeerId[];
  readonly need: number;
  /** Cycles a claim may go unanswered before the candidate is given up. */
  readonly timeoutCycles?: number;
}

export class Allocation {
  readonly need: number;
  private readonly queue: PeerId[];
  private readonly timeoutCycles: number;
  /** peer → cycle the claim was sent. */
  private readonly pending = new Map<PeerId, number>();
  private readonly granted: PeerId[] = [];
  readonly refused: PeerId[] = [];
  readonly timedOut: PeerId[] = [];

  constructor(options: AllocationOptions) {
    this.queue = [...new Set(options.candidates)];
    this.need = options.need;
    this.timeoutCycles = options.timeoutCycles ?? 10;
  }

  /** Peers to send a claim to now (never more outstanding + granted than needed). */
  next(cycle: number): PeerId[] {
    const out: PeerId[] = [];
    while (this.granted.length + this.pending.size < this.need && this.queue.length > 0) {
      const peer = this.queue.shift()!;
      this.pending.set(peer, cycle);
      out.push(peer);
    }
    return out;
  }

  /** A claim was answered. Returns false when no claim to that peer was outstanding (a stale or forged answer). */
  answer(peer: PeerId, granted: boolean): boolean {
    if (!this.pending.delete(peer)) return false;
    (granted ? this.granted : this.refused).push(peer);
    return true;
  }

  /** Gives up on claims unanswered for `timeoutCycles`; returns them (their late grants must be released). */
  expire(cycle: number): PeerId[] {
    const late: PeerId[] = [];
    for (const [peer, sent] of this.pending) {
      if (cycle - sent < this.timeoutCycles) continue;
      this.pending.delete(peer);
      this.timedOut.push(peer);
      late.push(peer);
    }
    return late;
  }

  /** A pending candidate became unreachable. */
  lost(peer: PeerId): void {
    if (this.pending.delete(peer)) this.timedOut.push(peer);
  }

  members(): readonly PeerId[] {
    return this.granted;
  }

  status(): AllocationStatus {
    if (this.granted.length >= this.need) return 'done';
    if (this.pending.size === 0 && this.queue.length === 0) return 'failed';
    return 'running';
  }
}
