/**
 * Files over the ring (the client side of "A P2P Cloud Storage Platform", Xu et al., with Chord placement): a put
 * cuts the file into 1 MiB chunks, seals each with a fresh per-file AES-GCM key, addresses it by the SHA-256 of
 * the sealed bytes, and hands it to the owner of its ring key, which copies it on to its successors (r replicas;
 * when the putting node is one of those successors it keeps its own copy instead of being sent one back).
 * The sealed manifest is stored the same way; its id and the key form the link. A get looks each chunk's owner up,
 * asks it for the replica set (remembered per owner for the rest of the get: a file's chunks fall on few owners,
 * so most chunks skip that round trip), and fetches from the holders in turn (rotated per chunk, so a file's
 * chunks come from several replicas in parallel); bytes that do not hash to the chunk id are refused, the sender
 * logged, and the chunk fetched elsewhere. When the whole replica set lacks a chunk (views of a settling ring
 * differ), the get walks on along the ring for a bounded number of peers before it fails, naming whom it asked.
 */
import type { PeerId } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';
import { chunkIdOf } from '../../store/chunk-id.ts';
import { chunkRingKey } from '../../protocols/storage/placement.ts';
import { add, hexOf, positionOf } from '../../protocols/chord/ring.ts';
import type { ChunkStore } from '../../store/chunk-store.ts';
import { newFileKey, open, seal, sha256Hex } from './storage-crypto.ts';
import { formatLink, parseLink } from './storage-link.ts';
import { decodeManifest, encodeManifest, MANIFEST_VERSION, sliceFile, type Manifest } from './storage-manifest.ts';
import type { OutgoingRequest, Reply } from './storage-rpc.ts';
import { traceMark } from '../../store/storage-trace.ts';

export interface FileDeps {
  readonly self: PeerId;
  readonly store: ChunkStore;
  readonly lookup: (ringKey: string) => Promise<PeerId>;
  /** A request to a peer (or to this node itself). */
  readonly ask: (to: PeerId, msg: OutgoingRequest, body?: Uint8Array) => Promise<Reply>;
  readonly log: (level: 'info' | 'warn', text: string) => void;
  /** A peer sent bytes that do not hash to the chunk it claimed. */
  readonly badChunk: (from: PeerId, chunk: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
  /** Replicas a put should reach before it counts a chunk as stored (default 1: any holder). */
  readonly wantedReplicas?: () => number;
}

export interface Progress {
  (done: number, total: number): void;
}

/**
 * Chunks in flight at once, per put or get. Each lane spends most of its time waiting (a lookup, a transfer, the
 * owner's copies and store), so more lanes than cores keep the links busy; 8 × 1 MiB stays far below the link's
 * buffer limits.
 */
const PARALLEL = 8;
const ATTEMPTS = 5;
const RETRY_MS = 1500;
/** Peers past a chunk's expected replica set that a get asks before it gives up on an attempt. */
const WALK_PEERS = 6;

export class FileTransfers {
  constructor(private readonly deps: FileDeps) {}

  /** Stores a file; resolves to its link and the fewest replicas any chunk reached. */
  async put(name: string, bytes: Uint8Array, progress: Progress): Promise<{ link: string; minReplicas: number }> {
    const key = newFileKey();
    const slices = sliceFile(bytes);
    const total = slices.length + 1;
    let done = 0;
    let minReplicas = Infinity;
    const chunks: Manifest['chunks'] = new Array(slices.length);
    // The whole file's hash (for the manifest) is computed while the chunks travel, not after them.
    const fileHash = sha256Hex(bytes);
    fileHash.catch(() => undefined);
    await inParallel(slices.length, PARALLEL, async (i) => {
      const slice = slices[i]!;
      const sealedAt = performance.timeOrigin + performance.now();
      const sealed = await seal(key, slice);
      const id = await chunkIdOf(sealed);
      traceMark('p.lane', id, String(sealedAt));
      traceMark('p.sealed', id);
      chunks[i] = { id, size: slice.byteLength };
      // Not `Math.min(minReplicas, await …)`: that reads minReplicas before the await, so parallel lanes would
      // overwrite each other's figure and the last lane to finish would decide it.
      const replicas = await this.putChunk(id, sealed);
      traceMark('p.done', id, String(replicas));
      minReplicas = Math.min(minReplicas, replicas);
      progress(++done, total);
    });
    const manifest: Manifest = { v: MANIFEST_VERSION, name, size: bytes.byteLength, sha256: await fileHash, chunks };
    const sealedManifest = await seal(key, encodeManifest(manifest));
    const manifestId = await chunkIdOf(sealedManifest);
    const manifestReplicas = await this.putChunk(manifestId, sealedManifest);
    minReplicas = Math.min(minReplicas, manifestReplicas);
    progress(++done, total);
    return { link: formatLink({ manifestId, key }), minReplicas };
  }

  /** Keeps this node's own replica of a chunk it put; resolves to the error if it could not (e.g. E_STORE_FULL). */
  private async storeOwnCopy(id: string, sealed: Uint8Array): Promise<unknown> {
    try {
      await this.deps.store.put(id, sealed);
      return null;
    } catch (err) {
      this.deps.log('warn', `could not keep this node's replica of ${id.slice(0, 12)}…: ${messageOf(err)}`);
      return err;
    }
  }

  /** Fetches, verifies and decrypts a file by its link. `onManifest` learns its name and size first. */
  async get(linkText: string, onManifest: (m: Manifest) => void, progress: Progress): Promise<{ name: string; bytes: Uint8Array }> {
    const link = parseLink(linkText);
    const holders = new Map<PeerId, PeerId[]>();
    const manifest = decodeManifest(await open(link.key, await this.fetchChunk(link.manifestId, 0, holders)));
    onManifest(manifest);
    const out = new Uint8Array(manifest.size);
    const offsets: number[] = [];
    let at = 0;
    for (const c of manifest.chunks) {
      offsets.push(at);
      at += c.size;
    }
    let done = 0;
    await inParallel(manifest.chunks.length, PARALLEL, async (i) => {
      const c = manifest.chunks[i]!;
      traceMark('g.lane', c.id);
      const sealed = await this.fetchChunk(c.id, i, holders);
      traceMark('g.fetched', c.id);
      const plain = await open(link.key, sealed);
      traceMark('g.opened', c.id);
      if (plain.byteLength !== c.size) throw new NepheleError('E_STORAGE_BAD_MANIFEST', `chunk ${i} is ${plain.byteLength} bytes, manifest says ${c.size}`);
      out.set(plain, offsets[i]!);
      progress(++done, manifest.chunks.length);
    });
    const digest = await sha256Hex(out);
    if (digest !== manifest.sha256) throw new NepheleError('E_STORAGE_FILE_HASH', 'the reassembled file does not match its SHA-256');
    return { name: manifest.name, bytes: out };
  }

  /**
   * Hands a chunk to its owner, which replicates it; returns how many peers hold it. Retries on failure, and when
   * fewer than `wantedReplicas` peers stored it (a copy to a successor timed out or was refused): puts are
   * idempotent, so holders that already have it just answer again. The last attempt takes what it gets.
   */
  private async putChunk(id: string, sealed: Uint8Array): Promise<number> {
    let last: unknown;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await this.deps.sleep(RETRY_MS);
      try {
        const count = await this.putOnce(id, sealed);
        const wanted = this.deps.wantedReplicas?.() ?? 1;
        if (count >= wanted || attempt === ATTEMPTS - 1) return count;
        last = new NepheleError('E_STORAGE_FEW_REPLICAS', `${count} of ${wanted} replicas stored`);
        this.deps.log('warn', `put of chunk ${id.slice(0, 12)}… reached ${count} of ${wanted} replicas (attempt ${attempt + 1}); trying again`);
      } catch (err) {
        last = err;
        this.deps.log('warn', `put of chunk ${id.slice(0, 12)}… failed (attempt ${attempt + 1}): ${messageOf(err)}`);
        if (err instanceof NepheleError && err.code === 'E_STORE_FULL') break;
      }
    }
    throw last instanceof Error ? last : new NepheleError('E_STORAGE_PUT_FAILED', String(last));
  }

  /** One put through the chunk's owner; resolves to how many peers hold the chunk after it. */
  private async putOnce(id: string, sealed: Uint8Array): Promise<number> {
    const owner = await this.deps.lookup(chunkRingKey(id));
    traceMark('p.owner', id, owner.slice(0, 8));
    const reply = await this.deps.ask(owner, { t: 'put', chunk: id, replicate: true }, sealed);
    if (reply.msg.t !== 'stored') throw new NepheleError('E_STORAGE_PROTOCOL', `unexpected answer "${reply.msg.t}" to a put`);
    const holders = reply.msg.holders;
    // The owner names this node among the holders without sending it a copy: it stores its own.
    if (owner === this.deps.self || !holders.includes(this.deps.self)) return holders.length;
    const failure = await this.storeOwnCopy(id, sealed);
    traceMark('p.own', id);
    if (failure === null) return holders.length;
    if (holders.length > 1) return holders.length - 1;
    throw failure;
  }

  /**
   * A chunk's verified bytes: from the local store if held, else from its replica holders, and when none of them
   * has it, from the peers that follow them on the ring (up to WALK_PEERS more, found by asking the furthest peer
   * asked so far for its own replica set). Views of the ring differ while it settles: a put made before peers
   * joined left the chunk on the successors of the old owner, past the replica set the getter now expects, until
   * re-replication moves it. `known` caches the replica set per owner for one get; an attempt that finds no good
   * copy drops that owner's entry. The final error names the peers asked and what each answered.
   */
  private async fetchChunk(id: string, index: number, known: Map<PeerId, PeerId[]>): Promise<Uint8Array> {
    const local = await this.deps.store.get(id);
    if (local && (await chunkIdOf(local)) === id) return local;
    const asked = new Map<PeerId, string>();
    let last: unknown = null;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await this.deps.sleep(RETRY_MS);
      let holders: PeerId[];
      let owner: PeerId;
      try {
        owner = await this.deps.lookup(chunkRingKey(id));
        traceMark('g.owner', id, owner.slice(0, 8));
        holders = known.get(owner) ?? (await this.holdersAt(owner, id));
        traceMark('g.holders', id);
        if (holders.length > 1) known.set(owner, holders);
      } catch (err) {
        last = err;
        continue;
      }
      // Rotate by chunk index so a file's chunks are spread over its replicas; peers already asked go last.
      const shift = holders.length > 0 ? index % holders.length : 0;
      const order = [...holders.slice(shift), ...holders.slice(0, shift)].sort((a, b) => Number(asked.has(a)) - Number(asked.has(b)));
      const outcome = { last };
      const found = (await this.fetchFrom(id, order, asked, outcome)) ?? (await this.walkOn(id, holders, asked, outcome));
      last = outcome.last;
      if (found) return found;
      known.delete(owner);
    }
    throw new NepheleError('E_STORAGE_CHUNK_UNAVAILABLE', `chunk ${id.slice(0, 12)}… could not be fetched from any replica; asked ${describeAsked(asked)} (last: ${messageOf(last)})`);
  }

  /** Asks each peer in turn for the chunk; the first verified copy wins. Records each peer's answer in `asked`. */
  private async fetchFrom(id: string, peers: readonly PeerId[], asked: Map<PeerId, string>, outcome: { last: unknown }): Promise<Uint8Array | null> {
    for (const holder of peers) {
      if (holder === this.deps.self) continue;
      try {
        const reply = await this.deps.ask(holder, { t: 'get', chunk: id });
        if (reply.msg.t !== 'chunk' || reply.msg.chunk !== id) throw new NepheleError('E_STORAGE_PROTOCOL', `unexpected answer "${reply.msg.t}"`);
        traceMark('g.got', id, holder.slice(0, 8));
        if ((await chunkIdOf(reply.body)) !== id) {
          this.deps.badChunk(holder, id);
          throw new NepheleError('E_CHUNK_HASH_MISMATCH', `chunk ${id.slice(0, 12)}… from ${holder.slice(0, 8)} does not hash to its id`);
        }
        asked.set(holder, 'ok');
        traceMark('g.verified', id);
        return reply.body.slice();
      } catch (err) {
        outcome.last = err;
        asked.set(holder, err instanceof NepheleError ? err.code : 'failed');
      }
    }
    return null;
  }

  /**
   * Walks the ring past a replica set that lacks the chunk: the furthest peer reached names its own replica set
   * (itself and its successors), whose new members are asked next, up to WALK_PEERS peers beyond the set.
   */
  private async walkOn(id: string, set: readonly PeerId[], asked: Map<PeerId, string>, outcome: { last: unknown }): Promise<Uint8Array | null> {
    const seen = new Set(set);
    let frontier = set[set.length - 1];
    let budget = WALK_PEERS;
    while (frontier !== undefined && budget > 0) {
      const next = (await this.followers(frontier, id)).filter((p) => !seen.has(p)).slice(0, budget);
      if (next.length === 0) return null;
      for (const p of next) seen.add(p);
      budget -= next.length;
      const found = await this.fetchFrom(id, next, asked, outcome);
      if (found) {
        this.deps.log('info', `chunk ${id.slice(0, 12)}… was not on its replica set ${set.map((p) => p.slice(0, 8)).join(', ')}; found further along the ring`);
        return found;
      }
      frontier = next[next.length - 1];
    }
    return null;
  }

  /** The peers after `peer` on the ring: its replica set but itself, or (if it cannot say) its Chord successor. */
  private async followers(peer: PeerId, id: string): Promise<PeerId[]> {
    const set = await this.holdersAt(peer, id);
    if (set.length > 1) return set.filter((p) => p !== peer);
    try {
      const next = await this.deps.lookup(hexOf(add(positionOf(peer), 1n)));
      return next === peer ? [] : [next];
    } catch {
      return [];
    }
  }

  /** The replica set of a chunk as its owner sees it (the owner alone if it cannot say). */
  private async holdersAt(owner: PeerId, id: string): Promise<PeerId[]> {
    try {
      const reply = await this.deps.ask(owner, { t: 'locate', chunk: id });
      if (reply.msg.t === 'holders' && reply.msg.holders.length > 0) return reply.msg.holders;
    } catch (err) {
      this.deps.log('info', `locate of ${id.slice(0, 12)}… at ${owner.slice(0, 8)} failed: ${messageOf(err)}`);
    }
    return [owner];
  }
}

/** "4f3a1b2c (E_CHUNK_MISSING), 9e0d…" — the peers a get asked for a chunk, and what each answered. */
function describeAsked(asked: ReadonlyMap<PeerId, string>): string {
  if (asked.size === 0) return 'no peer';
  return [...asked].map(([peer, answer]) => `${peer.slice(0, 8)} (${answer})`).join(', ');
}

/** Runs work(0..n-1) with at most `limit` at a time; rejects with the first failure (after the others settle). */
async function inParallel(n: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const lane = async (): Promise<void> => {
    while (next < n && failure === null) {
      const i = next++;
      try {
        await work(i);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
  if (failure !== null) throw failure;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
