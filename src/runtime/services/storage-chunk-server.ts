/**
 * The holder's side of the storage protocol for chunks (wire/storage.ts: put, handover, get, locate, has): a put
 * with `replicate` makes this node the chunk's owner, which stores its copy while it sends the other r - 1 to its
 * successors (Chord successor replication, Stoica et al. 2003 §5.2; the replicas of Xu et al.), and answers with
 * the peers that really stored it — its own write and each copy are awaited before the answer. `locate` names this
 * node's replica set for a chunk (itself and its first successors); a getter that finds a chunk missing there
 * walks on by asking the last peer of that set for its own (storage-files.ts).
 *
 * Kept apart from the service so the unit tests can run several holders with ring views chosen by the test.
 */
import type { PeerId } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';
import type { ChunkStore } from '../../store/chunk-store.ts';
import { replicaHolders } from '../../protocols/storage/placement.ts';
import type { OutgoingAnswer, OutgoingRequest, Reply } from './storage-rpc.ts';
import { traceMark } from '../../store/storage-trace.ts';

export type ChunkRequest = Extract<OutgoingRequest, { t: 'put' | 'handover' | 'get' | 'locate' | 'has' }>;

export interface ChunkServerDeps {
  readonly self: PeerId;
  readonly store: ChunkStore;
  readonly replicas: number;
  /** This node's ring successors, nearest first. */
  readonly successors: () => readonly PeerId[];
  /** A request to another peer. */
  readonly request: (to: PeerId, msg: OutgoingRequest, body: Uint8Array) => Promise<Reply>;
  /** The store changed (usage figures are stale). */
  readonly stored: () => void;
  /** Test hook: serve chunks with their last byte flipped. */
  readonly corruptServed: () => boolean;
}

export function isChunkRequest(msg: { readonly t: string }): msg is ChunkRequest {
  return msg.t === 'put' || msg.t === 'handover' || msg.t === 'get' || msg.t === 'locate' || msg.t === 'has';
}

export class ChunkServer {
  constructor(private readonly deps: ChunkServerDeps) {}

  /** This node's replica set for a chunk it owns: itself and its first r - 1 successors. */
  replicaSet(): PeerId[] {
    return replicaHolders(this.deps.self, this.deps.successors(), this.deps.replicas);
  }

  async serve(from: PeerId, msg: ChunkRequest, body: Uint8Array): Promise<{ msg: OutgoingAnswer; body?: Uint8Array }> {
    switch (msg.t) {
      case 'put':
      case 'handover': {
        // The owner's copies go out while it stores its own (successors verify the hash themselves). A requester
        // that is itself in the replica set is named among the holders but sent nothing: it stores its own copy.
        const copies = msg.t === 'put' && msg.replicate ? this.replicate(msg.chunk, body, from) : Promise.resolve([]);
        let stored = false;
        let full: unknown = null;
        try {
          await this.deps.store.put(msg.chunk, body);
          traceMark('s.stored', msg.chunk);
          stored = true;
        } catch (err) {
          if (!(err instanceof NepheleError && err.code === 'E_STORE_FULL') || msg.t !== 'put' || !msg.replicate) {
            await copies;
            throw err;
          }
          full = err;
        }
        this.deps.stored();
        const holders = stored ? [this.deps.self] : [];
        holders.push(...(await copies));
        traceMark('s.copies', msg.chunk);
        if (holders.length === 0) throw full ?? new NepheleError('E_STORAGE_PUT_FAILED', 'no replica could be stored');
        return { msg: { t: 'stored', chunk: msg.chunk, holders } };
      }
      case 'get': {
        const bytes = await this.deps.store.get(msg.chunk);
        traceMark('s.read', msg.chunk);
        if (!bytes) throw new NepheleError('E_CHUNK_MISSING', `no chunk ${msg.chunk.slice(0, 12)}… here`);
        if (this.deps.corruptServed() && bytes.byteLength > 0) bytes[bytes.byteLength - 1]! ^= 0xff;
        return { msg: { t: 'chunk', chunk: msg.chunk }, body: bytes };
      }
      case 'locate':
        return { msg: { t: 'holders', chunk: msg.chunk, holders: this.replicaSet() } };
      case 'has': {
        const held: string[] = [];
        for (const chunk of msg.chunks) if (await this.deps.store.has(chunk)) held.push(chunk);
        return { msg: { t: 'have', chunks: held } };
      }
    }
  }

  /**
   * The owner copies a new chunk to the next r - 1 successors; resolves to those that stored it, and to the
   * requester if it is one of them (it keeps the bytes it sent, so sending them back would only cost a transfer).
   */
  private async replicate(chunk: string, bytes: Uint8Array, requester: PeerId): Promise<PeerId[]> {
    const targets = this.replicaSet().filter((p) => p !== this.deps.self);
    const sendTo = targets.filter((p) => p !== requester);
    const results = await Promise.allSettled(sendTo.map((to) => this.deps.request(to, { t: 'put', chunk, replicate: false }, bytes)));
    const stored = sendTo.filter((_, i) => results[i]!.status === 'fulfilled');
    return targets.includes(requester) ? [...stored, requester] : stored;
  }
}
