/**
 * Where chunks live, and which must move when the ring changes (the successor replication of Chord, Stoica et al.
 * 2003 §5.2, as the P2P cloud storage platform of Xu et al. uses it for its replicas). A chunk is content-addressed
 * by its SHA-256 (64 hex); its ring key is the first 160 bits (40 hex). Its r replicas (default 3) sit on the
 * owner of that key — the key's successor — and the owner's next r - 1 successors.
 *
 * Two views of the same rule: `planRereplication` compares the whole ring before and after a change (an oracle
 * for simulations and benches), and `localRereplication` is what one node can decide from its own predecessor
 * and successor lists: for the chunks it owns, which successors newly entered the replica set and need a copy.
 */
import type { PeerId } from '../../core/ids.ts';
import { inHalfOpen, positionOf } from '../chord/ring.ts';
import type { SortedRing } from '../chord/sorted-ring.ts';

export const DEFAULT_REPLICAS = 3;
const CHUNK_ID = /^[0-9a-f]{64}$/;

/** The ring key of a chunk: the first 160 bits of its SHA-256 id. Throws E_BAD_CHUNK_ID on anything else. */
export function chunkRingKey(chunkId: string): string {
  if (!CHUNK_ID.test(chunkId)) throw new Error(`E_BAD_CHUNK_ID: not a 64-hex SHA-256 chunk id: ${chunkId.slice(0, 70)}`);
  return chunkId.slice(0, 40);
}

/** The replica set of a chunk owned by `owner`: the owner, then its successors, r in all (fewer on a tiny ring). */
export function replicaHolders(owner: PeerId, ownerSuccessors: readonly PeerId[], r = DEFAULT_REPLICAS): PeerId[] {
  const out: PeerId[] = [owner];
  for (const s of ownerSuccessors) {
    if (out.length >= r) break;
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** The replica set of a chunk on a known ring. */
export function placementOnRing(ring: SortedRing, chunkId: string, r = DEFAULT_REPLICAS): PeerId[] {
  return ring.successorsOf(positionOf(chunkRingKey(chunkId)), r);
}

export interface ChunkCopy {
  readonly chunk: string;
  /** A holder that has the chunk and survived the change (copy from any of them). */
  readonly from: readonly PeerId[];
  readonly to: PeerId;
}

export interface RereplicationPlan {
  /** New replica-set members that need the chunk. */
  readonly copies: ChunkCopy[];
  /** Survivors that left a chunk's replica set: they may delete it once its copies have landed. */
  readonly drops: { readonly chunk: string; readonly holder: PeerId }[];
  /** Chunks none of whose holders survived. */
  readonly lost: string[];
}

/**
 * The moves that bring every chunk from its replica set on `before` to its replica set on `after`. A holder
 * counts as surviving if it is still on the `after` ring.
 */
export function planRereplication(chunks: Iterable<string>, before: SortedRing, after: SortedRing, r = DEFAULT_REPLICAS): RereplicationPlan {
  const members = new Set(after.all());
  const copies: ChunkCopy[] = [];
  const drops: { chunk: string; holder: PeerId }[] = [];
  const lost: string[] = [];
  for (const chunk of chunks) {
    const survivors = placementOnRing(before, chunk, r).filter((h) => members.has(h));
    const target = placementOnRing(after, chunk, r);
    if (survivors.length === 0) {
      lost.push(chunk);
      continue;
    }
    for (const to of target) if (!survivors.includes(to)) copies.push({ chunk, from: survivors, to });
    for (const holder of survivors) if (!target.includes(holder)) drops.push({ chunk, holder });
  }
  return { copies, drops, lost };
}

export interface LocalView {
  readonly self: PeerId;
  /** Unknown (undefined) right after a failure: then the node cannot tell which chunks it owns and plans nothing. */
  readonly predecessor: PeerId | undefined;
  readonly successors: readonly PeerId[];
}

/**
 * What one node must push after its ring neighbourhood changed. For each chunk it holds and owns now (ring key in
 * (predecessor, self]): if it owned it before too, a copy to each successor that newly entered the replica set;
 * if it has just become the owner (its predecessor left), a copy to every other member of the set, since it
 * cannot know which of them held it (a copy that is already there costs a `has` check, puts are idempotent).
 */
export function localRereplication(held: Iterable<string>, before: LocalView, now: LocalView, r = DEFAULT_REPLICAS): { chunk: string; to: PeerId }[] {
  if (now.predecessor === undefined) return [];
  const self = positionOf(now.self);
  const pred = positionOf(now.predecessor);
  const predBefore = before.predecessor === undefined ? undefined : positionOf(before.predecessor);
  const was = new Set(replicaHolders(before.self, before.successors, r));
  const set = replicaHolders(now.self, now.successors, r).filter((h) => h !== now.self);
  const fresh = set.filter((h) => !was.has(h));
  const out: { chunk: string; to: PeerId }[] = [];
  for (const chunk of held) {
    const key = positionOf(chunkRingKey(chunk));
    if (!inHalfOpen(key, pred, self)) continue;
    const ownedBefore = predBefore !== undefined && inHalfOpen(key, predBefore, self);
    for (const to of ownedBefore ? fresh : set) out.push({ chunk, to });
  }
  return out;
}
