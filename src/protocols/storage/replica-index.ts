/**
 * The versioned replica index of "A P2P Cloud Storage Platform" (Xu, Song, Zhang, Song; §3.2–3.3), pure. The
 * node that owns a key on the DHT is its index node: per key it keeps a chain of pointers to the replicas, each
 * with the version that replica holds, and a write lock.
 *
 * Writing (the paper's steps 2–7): a writer asks for the lock; if the chain is unlocked it is granted and told
 * where the newest replicas are, otherwise it waits in a FIFO queue. The writer writes one replica and commits:
 * the chain's version goes up by one, that replica's pointer takes the new version, and the index asks the other
 * holders to update (phase 'updating'). Each holder's confirmation raises its pointer; when all are current the
 * chain unlocks and the next writer in the queue is granted. A lock held past `lockTimeoutMs` (a writer or a
 * replica that died) is broken by force and the next writer granted; confirmations that arrive after that are
 * discarded, so a late replica keeps its old version and is never served.
 *
 * Invariants: versions only grow, by one per commit; `newestReplicas` returns only holders at the chain's
 * version; at most one writer holds a key's lock; queued writers are granted in arrival order.
 * Time is the caller's `now` (ms), never read from a clock.
 */
import type { PeerId } from '../../core/ids.ts';
import { accept, reject, type Decoded } from '../../core/errors.ts';

export const ReplicaIndexErrors = {
  UNKNOWN_KEY: 'E_INDEX_UNKNOWN_KEY',
  NOT_LOCK_HOLDER: 'E_INDEX_NOT_LOCK_HOLDER',
  NOT_A_REPLICA: 'E_INDEX_NOT_A_REPLICA',
  VERSION_AHEAD: 'E_INDEX_VERSION_AHEAD',
} as const;

export interface ReplicaIndexOptions {
  /** A lock held longer than this is broken (default 30 s). */
  readonly lockTimeoutMs?: number;
}

export type IndexEvent =
  | { readonly kind: 'granted'; readonly key: string; readonly writer: PeerId; readonly version: number; readonly sources: PeerId[] }
  | { readonly kind: 'queued'; readonly key: string; readonly writer: PeerId; readonly position: number }
  | { readonly kind: 'update-replicas'; readonly key: string; readonly version: number; readonly from: PeerId; readonly to: PeerId[] }
  | { readonly kind: 'unlocked'; readonly key: string; readonly version: number }
  | { readonly kind: 'lock-broken'; readonly key: string; readonly writer: PeerId; readonly version: number };

type Lock =
  | { readonly writer: PeerId; readonly grantedAt: number; readonly phase: 'writing' }
  | { readonly writer: PeerId; readonly grantedAt: number; readonly phase: 'updating'; readonly version: number; readonly waiting: Set<PeerId> };

interface Chain {
  version: number;
  readonly replicas: Map<PeerId, number>;
  lock: Lock | null;
  readonly queue: PeerId[];
}

export class ReplicaIndex {
  private readonly chains = new Map<string, Chain>();
  readonly lockTimeoutMs: number;

  constructor(options: ReplicaIndexOptions = {}) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
  }

  /**
   * Records that `holder` stores `key` at `version` (a first upload, or a copy made by re-replication). A new key
   * takes the version given; a known key refuses a version above its own (E_INDEX_VERSION_AHEAD), since versions
   * advance only by commits through this index.
   */
  addReplica(key: string, holder: PeerId, version: number): Decoded<void> {
    let chain = this.chains.get(key);
    if (!chain) {
      chain = { version, replicas: new Map(), lock: null, queue: [] };
      this.chains.set(key, chain);
    }
    if (version > chain.version) return reject(ReplicaIndexErrors.VERSION_AHEAD, `${key}: version ${version} > index ${chain.version}`);
    chain.replicas.set(holder, Math.max(version, chain.replicas.get(holder) ?? -1));
    return accept(undefined);
  }

  /**
   * Takes over a key's chain as another index (or this one before a restart) left it: its version and replica
   * pointers, unlocked (a lock does not outlive the index that granted it; its writer's commit is refused and it
   * writes again). Pointers above the version are capped to it. Replaces whatever chain the key had here.
   */
  restore(key: string, version: number, replicas: readonly (readonly [PeerId, number])[]): void {
    const chain: Chain = { version, replicas: new Map(), lock: null, queue: [] };
    for (const [holder, v] of replicas) chain.replicas.set(holder, Math.min(v, version));
    this.chains.set(key, chain);
  }

  /** Drops a key's chain (this node no longer indexes it). */
  forget(key: string): void {
    this.chains.delete(key);
  }

  /** The holders of the newest version, the only ones a reader may be sent to. */
  newestReplicas(key: string): PeerId[] {
    const chain = this.chains.get(key);
    if (!chain) return [];
    const out: PeerId[] = [];
    for (const [holder, v] of chain.replicas) if (v === chain.version) out.push(holder);
    return out;
  }

  version(key: string): number | undefined {
    return this.chains.get(key)?.version;
  }

  /** Every replica pointer of a key with its version (snapshots, tests). */
  replicas(key: string): { holder: PeerId; version: number }[] {
    return [...(this.chains.get(key)?.replicas ?? [])].map(([holder, version]) => ({ holder, version }));
  }

  lockHolder(key: string): PeerId | undefined {
    return this.chains.get(key)?.lock?.writer;
  }

  waiting(key: string): readonly PeerId[] {
    return this.chains.get(key)?.queue ?? [];
  }

  keys(): string[] {
    return [...this.chains.keys()];
  }

  /** A writer asks for the key's lock: granted at once if free, else queued (asking again keeps its place). */
  requestWrite(key: string, writer: PeerId, now: number): Decoded<IndexEvent> {
    const chain = this.chains.get(key);
    if (!chain) return reject(ReplicaIndexErrors.UNKNOWN_KEY, `${key} has no replicas here`);
    if (chain.lock?.writer === writer) return accept(this.grantedEvent(key, chain, writer));
    if (chain.lock === null) return accept(this.grant(key, chain, writer, now));
    let position = chain.queue.indexOf(writer);
    if (position < 0) position = chain.queue.push(writer) - 1;
    return accept({ kind: 'queued', key, writer, position });
  }

  /**
   * The lock holder wrote the new version on `holder`: the version advances by one and the other holders are to
   * be updated from it. With no other holder the chain unlocks at once.
   */
  commit(key: string, writer: PeerId, holder: PeerId, now: number): Decoded<IndexEvent[]> {
    const chain = this.chains.get(key);
    if (!chain) return reject(ReplicaIndexErrors.UNKNOWN_KEY, `${key} has no replicas here`);
    const lock = chain.lock;
    if (!lock || lock.writer !== writer || lock.phase !== 'writing') {
      return reject(ReplicaIndexErrors.NOT_LOCK_HOLDER, `${writer.slice(0, 8)} does not hold the write lock of ${key}`);
    }
    if (!chain.replicas.has(holder)) return reject(ReplicaIndexErrors.NOT_A_REPLICA, `${holder.slice(0, 8)} holds no replica of ${key}`);
    chain.version++;
    chain.replicas.set(holder, chain.version);
    const stale = [...chain.replicas.keys()].filter((h) => h !== holder);
    if (stale.length === 0) return accept(this.unlock(key, chain, now));
    chain.lock = { writer, grantedAt: lock.grantedAt, phase: 'updating', version: chain.version, waiting: new Set(stale) };
    return accept([{ kind: 'update-replicas', key, version: chain.version, from: holder, to: stale }]);
  }

  /**
   * A holder reports it now stores `version`. Counted only while that update is under way; after the lock was
   * broken (or for any other version) the report is discarded and the pointer keeps its old version.
   */
  confirmUpdate(key: string, holder: PeerId, version: number, now: number): IndexEvent[] {
    const chain = this.chains.get(key);
    const lock = chain?.lock;
    if (!chain || !lock || lock.phase !== 'updating' || lock.version !== version || !lock.waiting.has(holder)) return [];
    lock.waiting.delete(holder);
    chain.replicas.set(holder, version);
    return lock.waiting.size === 0 ? this.unlock(key, chain, now) : [];
  }

  /** The lock holder gives up before committing: the next writer is granted. */
  release(key: string, writer: PeerId, now: number): IndexEvent[] {
    const chain = this.chains.get(key);
    if (!chain || chain.lock?.writer !== writer || chain.lock.phase !== 'writing') return [];
    return this.unlock(key, chain, now);
  }

  /** Breaks every lock held longer than the timeout and grants the next writers. Call on every tick. */
  expire(now: number): IndexEvent[] {
    const out: IndexEvent[] = [];
    for (const [key, chain] of this.chains) {
      const lock = chain.lock;
      if (!lock || now - lock.grantedAt < this.lockTimeoutMs) continue;
      out.push({ kind: 'lock-broken', key, writer: lock.writer, version: chain.version });
      out.push(...this.unlock(key, chain, now));
    }
    return out;
  }

  /** A holder is gone: its pointers go (an update no longer waits for it) and it leaves every queue. */
  removePeer(peer: PeerId, now: number): IndexEvent[] {
    const out: IndexEvent[] = [];
    for (const [key, chain] of this.chains) {
      chain.replicas.delete(peer);
      const at = chain.queue.indexOf(peer);
      if (at >= 0) chain.queue.splice(at, 1);
      const lock = chain.lock;
      if (lock?.phase === 'updating' && lock.waiting.delete(peer) && lock.waiting.size === 0) out.push(...this.unlock(key, chain, now));
    }
    return out;
  }

  private unlock(key: string, chain: Chain, now: number): IndexEvent[] {
    chain.lock = null;
    const out: IndexEvent[] = [{ kind: 'unlocked', key, version: chain.version }];
    const next = chain.queue.shift();
    if (next !== undefined) out.push(this.grant(key, chain, next, now));
    return out;
  }

  private grant(key: string, chain: Chain, writer: PeerId, now: number): IndexEvent {
    chain.lock = { writer, grantedAt: now, phase: 'writing' };
    return this.grantedEvent(key, chain, writer);
  }

  private grantedEvent(key: string, chain: Chain, writer: PeerId): IndexEvent {
    return { kind: 'granted', key, writer, version: chain.version, sources: this.newestReplicas(key) };
  }
}
