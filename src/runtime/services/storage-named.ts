/**
 * Mutable named objects on the storage ring: the versioned replica chain of "A P2P Cloud Storage Platform" (Xu,
 * Song, Zhang, Song; §3.2–3.3). The index node of a name is the Chord owner of sha256(name); it runs the pure
 * ReplicaIndex (src/protocols/storage/replica-index.ts) over the object's replica set, itself and its r - 1
 * successors. One node plays three parts here:
 *
 * - writer: takes the key's lock from the index (queued writers ask again until granted), writes the next version
 *   on the nearest replica, commits; the index asks the other holders to fetch that version and counts their
 *   confirmations, and the write resolves once they are in (or the lock was broken past its timeout);
 * - index: the chain per key, its lock and queue, expiry on every tick, and a short history of who wrote which
 *   version (versions go up by one per commit, so the history is linear);
 * - holder and reader: keeps the newest version it was given, and serves exactly the version asked for, never
 *   another. A reader asks the index for the holders of the newest version (a stale replica is never named) and
 *   reads from the one with the lowest measured round trip, falling back to the next.
 *
 * Durable: a held value lives in the node's chunk store (as the chunk sha256(value), so it counts against the lent
 * quota and a full holder refuses it with E_STORE_FULL) with a small record of which name and version it is; the
 * index persists its chains and hands copies to its successors, which take over when it dies
 * (storage-named-index.ts). Both survive a restart of the node.
 */
import type { PeerId } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';
import type { IndexEvent } from '../../protocols/storage/replica-index.ts';
import type { StorageMessage } from '../../wire/storage.ts';
import type { ChunkStore } from '../../store/chunk-store.ts';
import { chunkIdOf } from '../../store/chunk-id.ts';
import type { RecordStore } from '../../store/record-store.ts';
import { sha256Hex } from './storage-crypto.ts';
import { IndexKeeper } from './storage-named-index.ts';
import { HELD_PREFIX, heldRecordSchema, isIndexCopyName, parseRecord, type HeldRecord } from './storage-named-records.ts';
import type { OutgoingAnswer, OutgoingRequest, Reply } from './storage-rpc.ts';
import type { NamedSnapshot } from './storage-types.ts';

export type NamedRequest = Extract<StorageMessage, { t: 'nlock' | 'nput' | 'ncommit' | 'nrelease' | 'nsync' | 'nlocate' | 'nget' }>;

export interface NamedDeps {
  readonly self: PeerId;
  readonly ask: (to: PeerId, msg: OutgoingRequest, body?: Uint8Array) => Promise<Reply>;
  readonly lookup: (ringKey: string) => Promise<PeerId>;
  /** This node's replica set for keys it owns: itself and its r - 1 successors. */
  readonly replicaSet: () => PeerId[];
  /** Whether this node is the Chord owner of a ring key (see IndexKeeperDeps.owns). */
  readonly owns: (ringKey: string, strict?: boolean) => boolean;
  readonly successor: () => PeerId | undefined;
  /** The node's chunk store (under its quota): held values live there. */
  readonly store: ChunkStore;
  readonly records: RecordStore;
  /** The store's usage changed. */
  readonly stored: () => void;
  /** Measured round trip to a peer (undefined before any sample). */
  readonly rttOf: (peer: PeerId) => number | undefined;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: (level: 'info' | 'warn', text: string) => void;
  readonly changed: () => void;
  readonly lockTimeoutMs: number;
}

export interface NamedWrite {
  readonly name: string;
  readonly version: number;
  /** Holders that confirmed this version when the write resolved. */
  readonly replicas: number;
}

export interface NamedRead {
  readonly name: string;
  readonly version: number;
  readonly bytes: Uint8Array;
  readonly from: PeerId;
}

const RETRY_LOCK_MS = 60;
const PING_WAIT_MS = 1500;
const MAX_SHOWN = 20;

export class NamedObjects {
  private readonly keeper: IndexKeeper;
  /** Index side: commits waiting for their replicas' confirmations. */
  private readonly awaitingUpdate = new Map<string, { version: number; settle: () => void }>();
  /** Holder side: the newest version given to this node, per key (its bytes are in the chunk store). */
  private readonly held = new Map<string, HeldRecord>();
  /** Holder side: stores of one key run one after another. */
  private readonly keeping = new Map<string, Promise<unknown>>();
  /** Records read back from the stores after a restart; requests wait for it. */
  readonly loaded: Promise<void>;
  /** Writer side: one write per key at a time from this node (the index knows writers by peer id). */
  private readonly writing = new Map<string, Promise<unknown>>();
  /** Test hook: take the lock, then never commit (a writer that dies holding it). */
  stallWrites = false;
  /** Test hook: accept update requests from the index but never carry them out (a replica that falls behind). */
  ignoreSyncs = false;

  constructor(private readonly deps: NamedDeps) {
    this.keeper = new IndexKeeper(deps, deps.lockTimeoutMs);
    this.loaded = this.load().catch((err: unknown) => deps.log('warn', `could not read named-object records: ${String(err)}`));
  }

  private get index(): IndexKeeper['index'] {
    return this.keeper.index;
  }

  /** Whether a chunk holds a named object's value here (such chunks are placed by name, not by their id). */
  isPinned(chunk: string): boolean {
    for (const h of this.held.values()) if (h.chunk === chunk) return true;
    return false;
  }

  get indexesTakenOver(): number {
    return this.keeper.takenOver;
  }

  peerUp(peer: PeerId): void {
    this.keeper.peerUp(peer);
  }

  peerDown(peer: PeerId): void {
    this.apply(this.keeper.peerDown(peer, this.deps.now()));
  }

  private async load(): Promise<void> {
    for (const [k, value] of await this.deps.records.entries(HELD_PREFIX)) {
      const record = parseRecord(heldRecordSchema, value, (why) => this.deps.log('warn', `ignored stored record ${k}: ${why}`));
      if (record && (await this.deps.store.has(record.chunk))) this.held.set(k.slice(HELD_PREFIX.length), record);
    }
    await this.keeper.load();
    this.deps.changed();
  }

  static async keyOf(name: string): Promise<string> {
    return sha256Hex(new TextEncoder().encode(name));
  }

  tick(): void {
    this.apply(this.index.expire(this.deps.now()));
    void this.keeper.flush().catch((err: unknown) => this.deps.log('warn', `could not save the replica index: ${String(err)}`));
  }

  async write(name: string, bytes: Uint8Array): Promise<NamedWrite> {
    const key = await NamedObjects.keyOf(name);
    const before = this.writing.get(key) ?? Promise.resolve();
    const run = before.then(() => this.writeOnce(key, name, bytes), () => this.writeOnce(key, name, bytes));
    this.writing.set(key, run.catch(() => undefined));
    return run;
  }

  async read(name: string): Promise<NamedRead> {
    const key = await NamedObjects.keyOf(name);
    const indexNode = await this.deps.lookup(key.slice(0, 40));
    const located = (await this.deps.ask(indexNode, { t: 'nlocate', key })).msg;
    if (located.t !== 'nreplicas') throw new NepheleError('E_STORAGE_FAILED', `unexpected answer ${located.t}`);
    if (located.version === 0 || located.holders.length === 0) throw new NepheleError('E_NAMED_NOT_FOUND', `no object named "${name}"`);
    let lastError: unknown = null;
    for (const holder of await this.nearestFirst(located.holders)) {
      try {
        const reply = await this.deps.ask(holder, { t: 'nget', key, version: located.version });
        if (reply.msg.t !== 'nobject' || reply.msg.version !== located.version || reply.msg.name !== name) continue;
        return { name, version: located.version, bytes: reply.body, from: holder };
      } catch (err) {
        lastError = err;
      }
    }
    throw new NepheleError('E_NAMED_UNAVAILABLE', `no holder served version ${located.version} of "${name}": ${String(lastError)}`);
  }

  /** Answers the named-object requests of the storage protocol. */
  async serve(from: PeerId, msg: NamedRequest, body: Uint8Array): Promise<{ msg: OutgoingAnswer; body?: Uint8Array }> {
    await this.loaded;
    if (msg.t === 'nlock' || msg.t === 'ncommit' || msg.t === 'nrelease' || msg.t === 'nlocate') await this.keeper.ensure(msg.key);
    switch (msg.t) {
      case 'nlock': {
        await this.checkName(msg.key, msg.name);
        if (isIndexCopyName(msg.name)) throw new NepheleError('E_NAMED_RESERVED', 'names starting with "#index:" are reserved');
        this.keeper.indexed.set(msg.key, this.keeper.indexed.get(msg.key) ?? { name: msg.name, history: [] });
        for (const holder of this.deps.replicaSet()) this.index.addReplica(msg.key, holder, 0);
        const event = this.index.requestWrite(msg.key, from, this.deps.now());
        if (!event.ok) throw new NepheleError(event.code, event.reason);
        this.keeper.touched(msg.key);
        this.deps.changed();
        const granted = event.value.kind === 'granted';
        return { msg: { t: 'nlockres', key: msg.key, granted, version: this.index.version(msg.key) ?? 0, holders: this.holdersOf(msg.key) } };
      }
      case 'ncommit':
        return { msg: { t: 'ncommitted', key: msg.key, ...(await this.commit(msg.key, from, msg.holder)) } };
      case 'nrelease':
        this.apply(this.index.release(msg.key, from, this.deps.now()));
        return { msg: { t: 'nreleased', key: msg.key } };
      case 'nput':
        await this.checkName(msg.key, msg.name);
        if (isIndexCopyName(msg.name)) await this.keeper.receiveCopy(from, msg.name, body);
        else await this.keep(msg.key, msg.name, msg.version, body);
        return { msg: { t: 'nstored', key: msg.key, version: msg.version } };
      case 'nsync': {
        if (this.ignoreSyncs) return new Promise(() => undefined);
        const reply = await this.deps.ask(msg.from, { t: 'nget', key: msg.key, version: msg.version });
        if (reply.msg.t !== 'nobject' || reply.msg.version !== msg.version) throw new NepheleError('E_NAMED_STALE', 'the source sent another version');
        await this.keep(msg.key, msg.name, msg.version, reply.body);
        return { msg: { t: 'nstored', key: msg.key, version: msg.version } };
      }
      case 'nlocate':
        return { msg: { t: 'nreplicas', key: msg.key, ...this.keeper.locate(msg.key) } };
      case 'nget': {
        const here = this.held.get(msg.key);
        if (!here || here.version !== msg.version) {
          throw new NepheleError('E_NAMED_STALE', `holding version ${here?.version ?? 'none'}, asked for ${msg.version}`);
        }
        const bytes = await this.deps.store.get(here.chunk);
        if (!bytes) throw new NepheleError('E_NAMED_MISSING', `the value of version ${here.version} is gone from this node's store`);
        return { msg: { t: 'nobject', key: msg.key, name: here.name, version: here.version }, body: bytes };
      }
    }
  }

  snapshot(): NamedSnapshot {
    const indexed = [...this.keeper.indexed].slice(-MAX_SHOWN).map(([key, e]) => ({
      name: e.name, version: this.index.version(key) ?? 0, lockHolder: this.index.lockHolder(key) ?? null,
      waiting: this.index.waiting(key).length, replicas: this.index.replicas(key),
      history: e.history.slice(-MAX_SHOWN),
    }));
    const held = [...this.held.values()].slice(-MAX_SHOWN).map((h) => ({ name: h.name, version: h.version, size: h.size }));
    return { indexed, held };
  }

  private async writeOnce(key: string, name: string, bytes: Uint8Array): Promise<NamedWrite> {
    const indexNode = await this.deps.lookup(key.slice(0, 40));
    let grant: Extract<StorageMessage, { t: 'nlockres' }> | null = null;
    while (!grant) {
      const answer = (await this.deps.ask(indexNode, { t: 'nlock', key, name })).msg;
      if (answer.t !== 'nlockres') throw new NepheleError('E_STORAGE_FAILED', `unexpected answer ${answer.t}`);
      if (answer.granted) grant = answer;
      else await this.deps.sleep(RETRY_LOCK_MS);
    }
    if (this.stallWrites) return new Promise<NamedWrite>(() => undefined);
    try {
      const version = grant.version + 1;
      const [target] = await this.nearestFirst(grant.holders);
      if (!target) throw new NepheleError('E_NAMED_NO_REPLICAS', `the index of "${name}" names no replica`);
      await this.deps.ask(target, { t: 'nput', key, name, version }, bytes);
      const done = (await this.deps.ask(indexNode, { t: 'ncommit', key, holder: target })).msg;
      if (done.t !== 'ncommitted') throw new NepheleError('E_STORAGE_FAILED', `unexpected answer ${done.t}`);
      this.deps.log('info', `wrote "${name}" version ${done.version} (${done.replicas} replicas confirmed)`);
      return { name, version: done.version, replicas: done.replicas };
    } catch (err) {
      void this.deps.ask(indexNode, { t: 'nrelease', key }).catch(() => undefined);
      throw err;
    }
  }

  /** Index side of a commit: advance the version, then wait until the other holders confirm it (or the lock breaks). */
  private async commit(key: string, writer: PeerId, holder: PeerId): Promise<{ version: number; replicas: number }> {
    const result = this.index.commit(key, writer, holder, this.deps.now());
    if (!result.ok) throw new NepheleError(result.code, result.reason);
    const version = this.index.version(key) ?? 0;
    this.keeper.recordHistory(key, version, writer);
    this.keeper.touched(key);
    const settled = new Promise<void>((resolve) => {
      if (this.index.lockHolder(key) !== writer) return resolve();
      this.awaitingUpdate.set(key, { version, settle: resolve });
    });
    this.apply(result.value);
    await settled;
    return { version, replicas: this.index.replicas(key).filter((r) => r.version === version).length };
  }

  private apply(events: readonly IndexEvent[]): void {
    for (const event of events) {
      if (event.kind === 'update-replicas') {
        const name = this.keeper.indexed.get(event.key)?.name;
        if (name === undefined) continue;
        for (const to of event.to) {
          this.deps.ask(to, { t: 'nsync', key: event.key, name, version: event.version, from: event.from }).then(
            () => this.apply(this.index.confirmUpdate(event.key, to, event.version, this.deps.now())),
            (err: unknown) => this.deps.log('warn', `replica ${to.slice(0, 8)} did not take "${name}" v${event.version}: ${String(err)}`),
          );
        }
      } else if (event.kind === 'unlocked' || event.kind === 'lock-broken') {
        const waiting = this.awaitingUpdate.get(event.key);
        if (waiting) {
          this.awaitingUpdate.delete(event.key);
          waiting.settle();
        }
        if (event.kind === 'lock-broken') this.deps.log('warn', `broke the write lock of ${event.key.slice(0, 12)}… held by ${event.writer.slice(0, 8)}`);
      }
    }
    for (const event of events) this.keeper.touched(event.key);
    if (events.length > 0) this.deps.changed();
  }

  private holdersOf(key: string): PeerId[] {
    const newest = this.index.newestReplicas(key);
    return newest.length > 0 ? newest : this.index.replicas(key).map((r) => r.holder);
  }

  /** Stores a version of an object (not older than the one held) in the chunk store, under the quota. */
  private keep(key: string, name: string, version: number, bytes: Uint8Array): Promise<void> {
    const run = (this.keeping.get(key) ?? Promise.resolve()).then(async () => {
      const here = this.held.get(key);
      if (here && here.version > version) return;
      const chunk = await chunkIdOf(bytes);
      await this.deps.store.put(chunk, bytes);
      const record: HeldRecord = { name, version, chunk, size: bytes.byteLength };
      this.held.set(key, record);
      await this.deps.records.set(HELD_PREFIX + key, record);
      if (here && here.chunk !== chunk && !this.isPinned(here.chunk)) await this.deps.store.delete(here.chunk);
      this.deps.stored();
      this.deps.changed();
    });
    this.keeping.set(key, run.catch(() => undefined));
    return run;
  }

  private async checkName(key: string, name: string): Promise<void> {
    if ((await NamedObjects.keyOf(name)) !== key) throw new NepheleError('E_NAMED_KEY_MISMATCH', 'the key is not sha256 of the name');
  }

  /** Holders by measured round trip (this node first); unmeasured ones are pinged once, briefly, to get a sample. */
  private async nearestFirst(holders: readonly PeerId[]): Promise<PeerId[]> {
    const unmeasured = holders.filter((h) => h !== this.deps.self && this.deps.rttOf(h) === undefined);
    if (unmeasured.length > 0) {
      const pings = unmeasured.map((h) => this.deps.ask(h, { t: 'has', chunks: [] }).catch(() => undefined));
      await Promise.race([Promise.allSettled(pings), this.deps.sleep(PING_WAIT_MS)]);
    }
    const rtt = (h: PeerId): number => (h === this.deps.self ? 0 : this.deps.rttOf(h) ?? Infinity);
    return [...holders].sort((a, b) => rtt(a) - rtt(b));
  }
}
