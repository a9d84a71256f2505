/**
 * Clouds as the signaling server sees them: for each cloud name, the live members keyed by peer id. A member
 * set supports O(1) add/remove and uniform random samples (for `welcome` and `peers`), so a join costs the
 * same whether a cloud has ten peers or ten thousand. Empty clouds are forgotten, so on-demand public clouds
 * do not accumulate.
 */
import type { PeerId } from '../src/core/ids.ts';
import type { Rng } from '../src/core/rng.ts';

/** An indexable set: an array for sampling plus an index for O(1) swap-removal. */
class MemberSet<M> {
  private readonly ids: PeerId[] = [];
  private readonly byId = new Map<PeerId, { member: M; index: number }>();

  get size(): number {
    return this.ids.length;
  }

  get(id: PeerId): M | undefined {
    return this.byId.get(id)?.member;
  }

  /** Adds or replaces; returns the member that was replaced, if any. */
  set(id: PeerId, member: M): M | undefined {
    const existing = this.byId.get(id);
    if (existing) {
      const old = existing.member;
      existing.member = member;
      return old;
    }
    this.byId.set(id, { member, index: this.ids.length });
    this.ids.push(id);
    return undefined;
  }

  delete(id: PeerId): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    const last = this.ids.pop()!;
    if (last !== id) {
      this.ids[entry.index] = last;
      this.byId.get(last)!.index = entry.index;
    }
    this.byId.delete(id);
  }

  /** Up to n distinct ids chosen uniformly, never `exclude`. */
  sample(rng: Rng, n: number, exclude: PeerId): PeerId[] {
    const others = this.byId.has(exclude) ? this.ids.length - 1 : this.ids.length;
    if (others <= n * 2) return rng.sample(this.ids.filter((id) => id !== exclude), n);
    const chosen = new Set<PeerId>();
    while (chosen.size < n) {
      const id = this.ids[rng.int(this.ids.length)]!;
      if (id !== exclude) chosen.add(id);
    }
    return [...chosen];
  }
}

export class CloudRooms<M> {
  private readonly clouds = new Map<string, MemberSet<M>>();

  constructor(private readonly rng: Rng) {}

  /** Registers `member` as `peer` in `cloud`; returns the member it replaced (a stale socket of the same peer). */
  join(cloud: string, peer: PeerId, member: M): M | undefined {
    let set = this.clouds.get(cloud);
    if (!set) {
      set = new MemberSet<M>();
      this.clouds.set(cloud, set);
    }
    return set.set(peer, member);
  }

  /** Removes `peer` from `cloud` only if it is still held by `member` (a replaced socket must not evict its successor). */
  leave(cloud: string, peer: PeerId, member: M): void {
    const set = this.clouds.get(cloud);
    if (!set || set.get(peer) !== member) return;
    set.delete(peer);
    if (set.size === 0) this.clouds.delete(cloud);
  }

  get(cloud: string, peer: PeerId): M | undefined {
    return this.clouds.get(cloud)?.get(peer);
  }

  sample(cloud: string, n: number, exclude: PeerId): PeerId[] {
    return this.clouds.get(cloud)?.sample(this.rng, n, exclude) ?? [];
  }

  /** Live peers per non-empty cloud. */
  peerCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, set] of this.clouds) out.set(name, set.size);
    return out;
  }

  totalPeers(): number {
    let total = 0;
    for (const set of this.clouds.values()) total += set.size;
    return total;
  }
}
