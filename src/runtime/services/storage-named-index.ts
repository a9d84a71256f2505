/**
 * The index side of mutable named objects made durable (storage-named.ts; the replica index of Xu, Song, Zhang,
 * Song, "A P2P Cloud Storage Platform", §3.2–3.3): it owns the pure ReplicaIndex, and
 *
 * - persists every key's chain (version, replica pointers, history) in the node's record store, so the index
 *   survives a restart of its node;
 * - publishes every change as an index copy to the index node's successors (its replica set, which also holds the
 *   object's values), so that when the index node dies the next successor — now the Chord owner of the key — has
 *   the chain and takes over (index failover);
 * - takes a chain over lazily, on the first request for a key this node owns but does not index yet: from its own
 *   copy (left by the dead index, or by itself before a restart), else by asking its successor, which may have
 *   indexed the key before this node joined in front of it.
 *
 * A taken-over chain is unlocked; pointers to peers seen going down are dropped, and the current replica set is
 * added at version 0 on the next lock, so the next commit brings it up to date.
 */
import type { PeerId } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';
import { ReplicaIndex, type IndexEvent } from '../../protocols/storage/replica-index.ts';
import type { RecordStore } from '../../store/record-store.ts';
import { sha256Hex } from './storage-crypto.ts';
import { decodeIndexCopy, encodeIndexRecord, indexCopyName, INDEX_PREFIX, indexRecordSchema, parseRecord, type IndexRecord } from './storage-named-records.ts';
import type { OutgoingRequest, Reply } from './storage-rpc.ts';

export interface IndexKeeperDeps {
  readonly self: PeerId;
  readonly records: RecordStore;
  readonly ask: (to: PeerId, msg: OutgoingRequest, body?: Uint8Array) => Promise<Reply>;
  /**
   * Whether this node is the Chord owner of a 40-hex ring key. While its predecessor is unknown the answer is
   * true, unless `strict` (then false: it might not own it, so it must not ask its successor to hand the key over,
   * which could send the request around a ring of nodes that all just lost their predecessors).
   */
  readonly owns: (ringKey: string, strict?: boolean) => boolean;
  readonly successor: () => PeerId | undefined;
  /** This node's replica set for keys it owns: itself and its r - 1 successors. */
  readonly replicaSet: () => PeerId[];
  readonly log: (level: 'info' | 'warn', text: string) => void;
}

interface Copy extends IndexRecord {
  readonly from: PeerId;
}

const MAX_HISTORY = 64;
const MAX_DOWN = 256;

export class IndexKeeper {
  readonly index: ReplicaIndex;
  /** The name of each indexed key and who wrote which version. */
  readonly indexed = new Map<string, { name: string; history: { version: number; writer: PeerId }[] }>();
  /** Chains this node keeps for another index (or kept itself before a restart), not served as an index. */
  private readonly copies = new Map<string, Copy>();
  private readonly revisions = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly down = new Set<PeerId>();
  private readonly adopting = new Map<string, Promise<void>>();
  private flushing = false;
  takenOver = 0;

  constructor(private readonly deps: IndexKeeperDeps, lockTimeoutMs: number) {
    this.index = new ReplicaIndex({ lockTimeoutMs });
  }

  /** Reads the chains persisted before a restart; they are taken over on the first request for their key. */
  async load(): Promise<void> {
    for (const [k, value] of await this.deps.records.entries(INDEX_PREFIX)) {
      const record = parseRecord(indexRecordSchema, value, (why) => this.deps.log('warn', `ignored stored index record ${k}: ${why}`));
      if (record) this.copies.set(record.key, { ...(record as IndexRecord), from: this.deps.self });
    }
  }

  /** Makes sure a key this node owns is indexed here if anyone indexed it before (see the file comment). */
  ensure(key: string): Promise<void> {
    if (this.index.version(key) !== undefined || !this.deps.owns(key.slice(0, 40))) return Promise.resolve();
    let run = this.adopting.get(key);
    if (!run) {
      run = this.adopt(key).finally(() => this.adopting.delete(key));
      this.adopting.set(key, run);
    }
    return run;
  }

  /** A chain changed: persist and publish it at once (a flush under way picks it up). */
  touched(key: string): void {
    this.dirty.add(key);
    void this.flush().catch((err: unknown) => this.deps.log('warn', `could not save the replica index: ${String(err)}`));
  }

  /** The newest version and its holders as this node knows them, as the index or from a copy. */
  locate(key: string): { name: string | null; version: number; holders: PeerId[] } {
    const version = this.index.version(key);
    if (version !== undefined) {
      return { name: this.indexed.get(key)?.name ?? null, version, holders: version > 0 ? this.index.newestReplicas(key) : [] };
    }
    const copy = this.copies.get(key);
    if (!copy) return { name: null, version: 0, holders: [] };
    return { name: copy.name, version: copy.version, holders: copy.replicas.filter(([, v]) => v === copy.version).map(([h]) => h) };
  }

  /** An index copy from the index node of its key (an `nput` of `#index:<key>`). */
  async receiveCopy(from: PeerId, name: string, body: Uint8Array): Promise<void> {
    const decoded = decodeIndexCopy(name, body);
    if (!decoded.ok) throw new NepheleError(decoded.code, decoded.reason);
    const record = decoded.value;
    const held = this.copies.get(record.key);
    const newer = !held || held.from !== from || record.version > held.version || record.revision >= held.revision;
    if (!newer) return;
    if (this.index.version(record.key) !== undefined) {
      if (this.deps.owns(record.key.slice(0, 40))) return;
      // Someone else indexes this key now (a node joined in front of this one): step down to keeping a copy.
      this.index.forget(record.key);
      this.indexed.delete(record.key);
      this.dirty.delete(record.key);
    }
    this.copies.set(record.key, { ...record, from });
    await this.deps.records.set(INDEX_PREFIX + record.key, record);
  }

  peerUp(peer: PeerId): void {
    this.down.delete(peer);
  }

  /** A peer went down: its replica pointers go (an update no longer waits for it). */
  peerDown(peer: PeerId, now: number): IndexEvent[] {
    this.down.add(peer);
    if (this.down.size > MAX_DOWN) this.down.delete(this.down.values().next().value!);
    const events = this.index.removePeer(peer, now);
    for (const key of this.index.keys()) this.dirty.add(key);
    return events;
  }

  recordHistory(key: string, version: number, writer: PeerId): void {
    const entry = this.indexed.get(key);
    if (!entry) return;
    entry.history.push({ version, writer });
    if (entry.history.length > MAX_HISTORY) entry.history.shift();
  }

  /** Persists and publishes every changed chain, until none is left (one flush at a time). */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.dirty.size > 0) {
        const key = this.dirty.values().next().value!;
        this.dirty.delete(key);
        const record = this.recordOf(key);
        if (!record) continue;
        await this.deps.records.set(INDEX_PREFIX + key, record);
        const copyName = indexCopyName(key);
        const copyKey = await sha256Hex(new TextEncoder().encode(copyName));
        const body = encodeIndexRecord(record);
        for (const to of this.deps.replicaSet()) {
          if (to === this.deps.self) continue;
          void this.deps.ask(to, { t: 'nput', key: copyKey, name: copyName, version: record.revision }, body).catch((err: unknown) => {
            this.deps.log('info', `index copy of ${key.slice(0, 12)}… to ${to.slice(0, 8)} failed: ${String(err)}`);
          });
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private recordOf(key: string): IndexRecord | undefined {
    const version = this.index.version(key);
    const entry = this.indexed.get(key);
    if (version === undefined || !entry) return undefined;
    const revision = (this.revisions.get(key) ?? 0) + 1;
    this.revisions.set(key, revision);
    const replicas = this.index.replicas(key).map((r): [PeerId, number] => [r.holder, r.version]);
    return { key, name: entry.name, version, revision, replicas, history: entry.history.slice(-MAX_HISTORY) };
  }

  private async adopt(key: string): Promise<void> {
    // A copy this node saved itself before a restart may have been overtaken while it was away: the successor
    // may have taken the index over meanwhile, so the newer of the two wins.
    const copy = this.copies.get(key);
    const mayAsk = copy ? copy.from === this.deps.self : this.deps.owns(key.slice(0, 40), true);
    const pulled = mayAsk ? await this.pull(key) : undefined;
    const record = pulled && (!copy || pulled.version > copy.version) ? pulled : copy;
    if (!record || this.index.version(key) !== undefined) return;
    this.index.restore(key, record.version, record.replicas.filter(([holder]) => !this.down.has(holder)));
    this.indexed.set(key, { name: record.name, history: [...record.history] });
    this.revisions.set(key, record.revision);
    this.copies.delete(key);
    this.dirty.add(key);
    this.takenOver++;
    this.deps.log('info', `took over the index of "${record.name}" at version ${record.version}`);
  }

  /** The chain as the successor knows it (it indexed the key before this node joined in front of it). */
  private async pull(key: string): Promise<IndexRecord | undefined> {
    const succ = this.deps.successor();
    if (!succ) return undefined;
    try {
      const answer = (await this.deps.ask(succ, { t: 'nlocate', key })).msg;
      if (answer.t !== 'nreplicas' || answer.version === 0 || answer.name === null) return undefined;
      return { key, name: answer.name, version: answer.version, revision: 0, replicas: answer.holders.map((h): [PeerId, number] => [h, answer.version]), history: [] };
    } catch {
      return undefined;
    }
  }
}
