/**
 * The storage service (issue #4): encrypted, content-addressed files on a Chord ring of peers, r = 3 replicas on
 * the successors of each chunk id (Xu, Song, Zhang, Song, "A P2P Cloud Storage Platform"; Chord, Stoica et al.
 * 2003). It hosts the Chord slot (joined through the peer-sampling view), speaks the `storage` frame protocol
 * (wire/storage.ts) for chunk bytes, keeps chunks in the injected store under a lent quota (E_STORE_FULL past it),
 * re-replicates when its ring neighbourhood changes (chunk requests from peers are served by storage-chunk-server.ts),
 * and answers the portal's commands:
 *
 *   put {name, bytes} → {link}        get {link} → {name, bytes}        setQuota {bytes}
 *   leave {} → {handedOver}           setFaults {corruptServed?, stallNamedWrites?, ignoreNamedSyncs?}  (test hooks)
 *   write {name, bytes} → {name, version, replicas}     read {name} → {name, version, bytes, from}
 *   probeLookups {count} → {ms[]}  (Chord lookups of random keys, timed: the storage bench's latency figure)
 *
 * `write`/`read` are mutable named objects on a versioned replica chain (storage-named.ts), whose values live in
 * the chunk store under the quota and whose index survives restarts and fails over to the next successor. Copies
 * whose replica set this node has left are deleted after a grace period (storage-garbage.ts).
 */
import type { PeerId } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';
import { z } from 'zod';
import type { ChunkStore } from '../../store/chunk-store.ts';
import { DEFAULT_REPLICAS, replicaHolders } from '../../protocols/storage/placement.ts';
import { STORAGE_PROTOCOL } from '../../wire/storage.ts';
import type { NodeService, ServiceDeps, ServiceFactory } from '../node-service.ts';
import { StorageRing } from './storage-ring.ts';
import { StorageRpc, type OutgoingAnswer, type OutgoingRequest, type Reply } from './storage-rpc.ts';
import { FileTransfers, messageOf } from './storage-files.ts';
import { ChunkServer, isChunkRequest } from './storage-chunk-server.ts';
import { Replicator } from './storage-replication.ts';
import { NamedObjects, type NamedRequest } from './storage-named.ts';
import { MAX_NAMED_OBJECT_BYTES, MAX_OBJECT_NAME } from '../../wire/storage.ts';
import { DEFAULT_QUOTA_BYTES, QuotaChunkStore } from './storage-quota.ts';
import type { RecordStore } from '../../store/record-store.ts';
import { defaultRecordStore } from './storage-store.ts';
import { isIndexCopyName } from './storage-named-records.ts';
import { inHalfOpen, positionOf } from '../../protocols/chord/ring.ts';
import { LentStorageAccount } from './storage-credit.ts';
import { defaultCreditStore } from './compute-credit-store.ts';
import { summedKey } from '../../protocols/aggregation/averaging.ts';
import { STORAGE_SERVICE, type StorageSnapshot, type StoredFile, type TransferProgress } from './storage-types.ts';

export interface StorageServiceOptions {
  /** Opens this peer's chunk store (IndexedDB in the browser, memory or disk in the Node peer). */
  readonly openStore: (self: PeerId) => ChunkStore;
  /** Opens this peer's named-object records (default: IndexedDB in the browser, memory elsewhere). */
  readonly openRecords?: (self: PeerId) => RecordStore;
  readonly quotaBytes?: number;
  readonly replicas?: number;
  /** Time a peer gets to answer one request (a 1 MiB chunk included). */
  readonly requestTimeoutMs?: number;
  /** Node ticks between full re-replication passes. */
  readonly fullPassTicks?: number;
  /** A chunk whose replica set this node has left is deleted once the set holds it for this long (default 2 min). */
  readonly strayGraceMs?: number;
  /** A named object's write lock held longer than this is broken (default 10 s, at most half the request timeout). */
  readonly namedLockTimeoutMs?: number;
}

const MAX_KEPT = 50;
const MAX_BAD_SENDERS = 20;
const RING_WAIT_MS = 15_000;
const LENT_KEY = summedKey('storage-gibh');

const putArgs = z.object({ name: z.string().min(1).max(255), bytes: z.instanceof(Uint8Array) }).strict();
const getArgs = z.object({ link: z.string().max(400) }).strict();
const quotaArgs = z.object({ bytes: z.number().finite().min(0).max(2 ** 50) }).strict();
const faultArgs = z.object({ corruptServed: z.boolean().optional(), stallNamedWrites: z.boolean().optional(), ignoreNamedSyncs: z.boolean().optional() }).strict();
const objectName = z.string().min(1).max(MAX_OBJECT_NAME).refine((n) => !isIndexCopyName(n), 'names starting with "#index:" are reserved');
const writeArgs = z.object({ name: objectName, bytes: z.instanceof(Uint8Array).refine((b) => b.byteLength <= MAX_NAMED_OBJECT_BYTES, 'a named object holds at most 1 MiB') }).strict();
const readArgs = z.object({ name: objectName }).strict();
const probeArgs = z.object({ count: z.number().int().min(1).max(1000) }).strict();

export function storageService(options: StorageServiceOptions): ServiceFactory {
  return (deps) => new StorageService(deps, options);
}

class StorageService implements NodeService {
  readonly name = STORAGE_SERVICE;
  readonly slots;
  readonly frameProtocols = [STORAGE_PROTOCOL];
  private readonly store: QuotaChunkStore;
  private readonly ring: StorageRing;
  private readonly rpc: StorageRpc;
  private readonly files: FileTransfers;
  private readonly chunks: ChunkServer;
  private readonly replicator: Replicator;
  private readonly named: NamedObjects;
  private readonly replicas: number;
  private readonly uploads = new Map<string, StoredFile>();
  private readonly downloads = new Map<string, TransferProgress>();
  private usage = { bytes: 0, chunks: 0 };
  private refusedChunks = 0;
  private badSenders: string[] = [];
  private corruptServed = false;
  private nextUpload = 0;
  private readonly lent: LentStorageAccount;

  constructor(private readonly deps: ServiceDeps, options: StorageServiceOptions) {
    this.replicas = options.replicas ?? DEFAULT_REPLICAS;
    this.store = new QuotaChunkStore(options.openStore(deps.self), options.quotaBytes ?? DEFAULT_QUOTA_BYTES);
    this.ring = new StorageRing({ self: deps.self, view: deps.view, run: deps.run, onNeighbours: () => this.replicator?.neighboursMaybeChanged() });
    this.slots = [this.ring.slot];
    this.rpc = new StorageRpc({
      sendFrame: deps.sendFrame, connect: deps.connect, log: deps.log,
      serve: (from, msg, body) => this.serve(from, msg, body),
      timeoutMs: options.requestTimeoutMs ?? 20_000,
    });
    const ask = (to: PeerId, msg: OutgoingRequest, body?: Uint8Array): Promise<Reply> => this.ask(to, msg, body);
    this.chunks = new ChunkServer({
      self: deps.self, store: this.store, replicas: this.replicas,
      successors: () => this.ring.successors(),
      request: (to, msg, body) => this.rpc.request(to, msg, body),
      stored: () => this.refreshUsage(),
      corruptServed: () => this.corruptServed,
    });
    this.files = new FileTransfers({
      self: deps.self, store: this.store, ask, log: deps.log,
      lookup: (key) => this.ring.lookup(key),
      badChunk: (from, chunk) => this.onBadChunk(from, chunk),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      // r copies, or every peer there is on a ring smaller than r.
      wantedReplicas: () => Math.min(this.replicas, 1 + new Set(this.ring.successors().filter((p) => p !== deps.self)).size),
    });
    this.replicator = new Replicator({
      self: deps.self, replicas: this.replicas, store: this.store, ask, log: deps.log, now: deps.now,
      lookup: (key) => this.ring.lookup(key),
      changed: () => this.refreshUsage(),
      neighbours: () => ({ predecessor: this.ring.predecessor(), successors: this.ring.successors() }),
      fullPassTicks: options.fullPassTicks ?? 30,
      strayGraceMs: options.strayGraceMs ?? 120_000,
      pinned: (chunk) => this.named?.isPinned(chunk) ?? false,
    });
    this.named = new NamedObjects({
      self: deps.self, ask, log: deps.log, now: deps.now, changed: deps.changed,
      lookup: (key) => this.ring.lookup(key),
      replicaSet: () => replicaHolders(deps.self, this.ring.successors(), this.replicas),
      owns: (ringKey, strict) => this.owns(ringKey, strict),
      successor: () => this.ring.successors()[0],
      store: this.store,
      records: (options.openRecords ?? defaultRecordStore)(deps.self),
      stored: () => this.refreshUsage(),
      rttOf: (peer) => this.rpc.rttOf(peer),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      // A commit answers once the lock unlocks or breaks, so the lock must break well inside a request's timeout.
      lockTimeoutMs: options.namedLockTimeoutMs ?? Math.min(10_000, (options.requestTimeoutMs ?? 20_000) / 2),
    });
    this.lent = new LentStorageAccount(defaultCreditStore(deps.self, 'storage'), (text) => deps.log('warn', `storage: ${text}`));
    this.refreshUsage();
  }

  onFrame(from: PeerId, envelope: { readonly p: string; readonly v: number; readonly m: unknown }, body: Uint8Array): void {
    this.rpc.onFrame(from, envelope.v, envelope.m, body);
  }

  tick(): void {
    this.lent.tick(this.deps.now(), this.usage.bytes);
    this.replicator.tick();
    this.named.tick();
  }

  peerUp(peer: PeerId): void {
    this.rpc.peerUp(peer);
    this.named.peerUp(peer);
  }

  peerDown(peer: PeerId): void {
    this.rpc.peerDown(peer);
    this.named.peerDown(peer);
  }

  /** Whether this node owns a ring key: it lies in (predecessor, self], or (unless strict) the predecessor is unknown. */
  private owns(ringKey: string, strict = false): boolean {
    const pred = this.ring.predecessor();
    if (pred === undefined) return !strict;
    return inHalfOpen(positionOf(ringKey), positionOf(pred), positionOf(this.deps.self));
  }

  stop(): void {
    this.rpc.stop();
  }

  snapshot(): StorageSnapshot {
    return {
      quotaBytes: this.store.quotaBytes, usedBytes: this.usage.bytes, chunksHeld: this.usage.chunks, replicas: this.replicas,
      predecessor: this.ring.predecessor() ?? null, successors: this.ring.successors().slice(0, this.replicas + 1),
      uploads: [...this.uploads.values()].reverse(), downloads: [...this.downloads.values()].reverse(),
      refusedChunks: this.refusedChunks, badSenders: [...this.badSenders],
      indexesTakenOver: this.named.indexesTakenOver,
      copiesPushed: this.replicator.copiesPushed, straysDeleted: this.replicator.straysDeleted, lastRepairAt: this.replicator.lastPassAt, corruptServed: this.corruptServed,
      named: this.named.snapshot(), lentGiBHours: this.lent.gibHours, cloudLentGiBHours: this.cloudLent(),
    };
  }

  private cloudLent(): number | null {
    const mean = this.deps.averages()?.get(LENT_KEY);
    const size = this.deps.estimatedSize();
    return mean === undefined || size === null ? null : mean * size;
  }

  /** Storage-hours lent, summed over the cloud by aggregation (a peer lending nothing counts as 0). */
  localValues(): Readonly<Record<string, number>> {
    return { [LENT_KEY]: this.lent.gibHours };
  }

  async command(command: string, args: unknown): Promise<unknown> {
    switch (command) {
      case 'put': {
        const { name, bytes } = parse(putArgs, args);
        await this.onRing();
        return this.putFile(name, bytes);
      }
      case 'get': {
        const { link } = parse(getArgs, args);
        await this.onRing();
        return this.getFile(link);
      }
      case 'setQuota':
        this.store.setQuota(parse(quotaArgs, args).bytes);
        this.deps.changed();
        return { quotaBytes: this.store.quotaBytes };
      case 'leave':
        return { handedOver: await this.replicator.handOver() };
      case 'setFaults': {
        const faults = parse(faultArgs, args);
        this.corruptServed = faults.corruptServed ?? this.corruptServed;
        this.named.stallWrites = faults.stallNamedWrites ?? this.named.stallWrites;
        this.named.ignoreSyncs = faults.ignoreNamedSyncs ?? this.named.ignoreSyncs;
        this.deps.log('warn', `storage test hooks: corrupt served chunks ${this.corruptServed ? 'ON' : 'off'}, stall named writes ${this.named.stallWrites ? 'ON' : 'off'}, ignore named syncs ${this.named.ignoreSyncs ? 'ON' : 'off'}`);
        this.deps.changed();
        return { corruptServed: this.corruptServed, stallNamedWrites: this.named.stallWrites, ignoreNamedSyncs: this.named.ignoreSyncs };
      }
      case 'write': {
        const { name, bytes } = parse(writeArgs, args);
        return this.named.write(name, bytes);
      }
      case 'read':
        return this.named.read(parse(readArgs, args).name);
      case 'probeLookups':
        return { ms: await this.probeLookups(parse(probeArgs, args).count) };
      default:
        throw new NepheleError('E_UNKNOWN_COMMAND', `storage has no command "${command}"`);
    }
  }

  /**
   * Waits (up to RING_WAIT_MS) until this node has a ring successor whenever it knows other peers. A node that has
   * just linked up would otherwise own every key itself: a put would keep the only copy here (lost if the node
   * leaves at once, as a CLI run does) and a get would look for chunks only here.
   */
  private async onRing(): Promise<void> {
    for (let waited = 0; this.ring.successors().length === 0 && this.deps.viewEntries().length + this.deps.linkedPeers().length > 0; waited += 100) {
      if (waited >= RING_WAIT_MS) throw new NepheleError('E_STORAGE_NOT_ON_RING', `this node found no place on the storage ring within ${RING_WAIT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async putFile(name: string, bytes: Uint8Array): Promise<{ link: string }> {
    const id = `upload-${this.nextUpload++}`;
    const update = (patch: Partial<StoredFile>): void => {
      const prev = this.uploads.get(id);
      if (prev) this.uploads.set(id, { ...prev, ...patch });
      this.deps.changed();
    };
    this.uploads.set(id, {
      id, name, size: bytes.byteLength, chunksDone: 0, chunksTotal: Math.max(1, Math.ceil(bytes.byteLength / 2 ** 20)) + 1,
      state: 'running', error: null, startedAt: this.deps.now(), finishedAt: null, link: null, minReplicas: null,
    });
    trim(this.uploads);
    try {
      const { link, minReplicas } = await this.files.put(name, bytes, (done, total) => update({ chunksDone: done, chunksTotal: total }));
      update({ state: 'done', link, minReplicas, finishedAt: this.deps.now() });
      this.deps.log('info', `stored ${name} (${bytes.byteLength} bytes), fewest replicas of a chunk: ${minReplicas}`);
      this.refreshUsage();
      return { link };
    } catch (err) {
      update({ state: 'failed', error: messageOf(err), finishedAt: this.deps.now() });
      throw err;
    }
  }

  private async getFile(link: string): Promise<{ name: string; bytes: Uint8Array }> {
    const id = /^nephele:\/\/([0-9a-f]{64})/.exec(link.trim())?.[1] ?? `bad-${this.deps.now()}`;
    const update = (patch: Partial<TransferProgress>): void => {
      const prev = this.downloads.get(id);
      if (prev) this.downloads.set(id, { ...prev, ...patch });
      this.deps.changed();
    };
    this.downloads.delete(id);
    this.downloads.set(id, { id, name: '', size: 0, chunksDone: 0, chunksTotal: 0, state: 'running', error: null, startedAt: this.deps.now(), finishedAt: null });
    trim(this.downloads);
    try {
      const file = await this.files.get(
        link,
        (m) => update({ name: m.name, size: m.size, chunksTotal: m.chunks.length }),
        (done, total) => update({ chunksDone: done, chunksTotal: total }),
      );
      update({ state: 'done', finishedAt: this.deps.now() });
      return file;
    } catch (err) {
      update({ state: 'failed', error: messageOf(err), finishedAt: this.deps.now() });
      throw err;
    }
  }

  /** A request addressed to this node itself is served without the network. */
  private async ask(to: PeerId, msg: OutgoingRequest, body?: Uint8Array): Promise<Reply> {
    if (to !== this.deps.self) return this.rpc.request(to, msg, body);
    const answer = await this.serve(to, { ...msg, req: 0 } as Parameters<StorageService['serve']>[1], body ?? new Uint8Array(0));
    return { msg: { ...answer.msg, req: 0 } as Reply['msg'], body: answer.body ?? new Uint8Array(0) };
  }

  private async serve(from: PeerId, msg: Parameters<ConstructorParameters<typeof StorageRpc>[0]['serve']>[1], body: Uint8Array): Promise<{ msg: OutgoingAnswer; body?: Uint8Array }> {
    if (isChunkRequest(msg)) return this.chunks.serve(from, msg, body);
    return this.named.serve(from, msg satisfies NamedRequest, body);
  }

  /**
   * Times `count` lookups of random keys. A node with no ring successor that knows other peers would answer each
   * lookup itself in no time, which is not a lookup: the probe fails instead (E_STORAGE_NOT_ON_RING).
   */
  private async probeLookups(count: number): Promise<number[]> {
    const ms: number[] = [];
    for (let i = 0; i < count; i++) {
      if (this.ring.successors().length === 0 && this.deps.viewEntries().length + this.deps.linkedPeers().length > 0) {
        throw new NepheleError('E_STORAGE_NOT_ON_RING', `this node has no ring successor after ${i} of ${count} lookups: its lookups would answer themselves`);
      }
      const key = Array.from({ length: 20 }, () => this.deps.rng.int(256).toString(16).padStart(2, '0')).join('');
      const t0 = performance.now();
      await this.ring.lookup(key);
      ms.push(performance.now() - t0);
    }
    return ms;
  }

  private onBadChunk(from: PeerId, chunk: string): void {
    this.refusedChunks++;
    this.badSenders = [from, ...this.badSenders.filter((p) => p !== from)].slice(0, MAX_BAD_SENDERS);
    this.deps.log('warn', `refused chunk ${chunk.slice(0, 12)}… from ${from.slice(0, 8)}: E_CHUNK_HASH_MISMATCH (fetching it elsewhere)`);
    this.deps.changed();
  }

  private refreshUsage(): void {
    void this.store.usage().then((u) => {
      this.usage = { bytes: u.bytes, chunks: u.chunks };
      this.deps.changed();
    }, () => undefined);
  }
}

function parse<T>(schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args);
  if (!parsed.success) throw new NepheleError('E_STORAGE_BAD_ARGS', parsed.error.issues[0]?.message ?? 'invalid arguments');
  return parsed.data;
}

function trim<V>(map: Map<string, V>): void {
  while (map.size > MAX_KEPT) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}
