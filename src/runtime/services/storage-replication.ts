/**
 * Keeping r replicas as the ring changes (Chord successor replication, Stoica et al. 2003 §5.2; the re-replication
 * of Xu et al.). The node watches its predecessor and its first successors; when they change it asks
 * `localRereplication` which of the chunks it owns must be copied to which successors, checks with `has` what they
 * already hold, and pushes the rest. Every `fullPassTicks` it also runs a full pass (as if it had just become the
 * owner of everything in its range), which repairs copies lost to changes it did not see. Passes never overlap.
 * `handOver` is the graceful leave: the chunks this node owns go to its successor before it goes.
 * The full pass's sweep also finds stray copies — chunks this node holds but whose replica set it has left — and
 * deletes them once the whole replica set holds them, after a grace period (storage-garbage.ts).
 */
import type { PeerId } from '../../core/ids.ts';
import type { ChunkStore } from '../../store/chunk-store.ts';
import { chunkRingKey, localRereplication, type LocalView } from '../../protocols/storage/placement.ts';
import { inHalfOpen, positionOf } from '../../protocols/chord/ring.ts';
import { MAX_HAS_LIST } from '../../wire/storage.ts';
import type { OutgoingRequest, Reply } from './storage-rpc.ts';
import { messageOf } from './storage-files.ts';
import { StrayCopies } from './storage-garbage.ts';

const SWEEP_BATCH = 32;

export interface ReplicationDeps {
  readonly self: PeerId;
  readonly replicas: number;
  readonly store: ChunkStore;
  readonly neighbours: () => { predecessor: PeerId | undefined; successors: PeerId[] };
  readonly ask: (to: PeerId, msg: OutgoingRequest, body?: Uint8Array) => Promise<Reply>;
  /** The owner of a 40-hex ring key (a Chord lookup). */
  readonly lookup: (ringKey: string) => Promise<PeerId>;
  readonly log: (level: 'info' | 'warn', text: string) => void;
  readonly now: () => number;
  readonly changed: () => void;
  readonly fullPassTicks: number;
  /** A stray copy is deleted after it has been seen fully replicated elsewhere for this long (ms). */
  readonly strayGraceMs: number;
  /** Chunks this node keeps whatever the ring says (named-object values, which are placed by name, not by id). */
  readonly pinned: (chunk: string) => boolean;
}

export class Replicator {
  private last: LocalView;
  private running = false;
  /** Where the sweep of chunks held but not owned resumes. */
  private sweepCursor = 0;
  private again = false;
  private ticks = 0;
  private readonly strays: StrayCopies;
  copiesPushed = 0;
  straysDeleted = 0;
  lastPassAt: number | null = null;

  constructor(private readonly deps: ReplicationDeps) {
    this.last = { self: deps.self, predecessor: undefined, successors: [] };
    this.strays = new StrayCopies(deps.replicas, deps.strayGraceMs);
  }

  /** Called whenever the ring may have moved; starts a pass if the neighbourhood that matters changed. */
  neighboursMaybeChanged(): void {
    const now = this.view();
    const r = this.deps.replicas;
    const same = now.predecessor === this.last.predecessor && now.successors.slice(0, r).join() === this.last.successors.slice(0, r).join();
    if (same) return;
    const before = this.last;
    this.last = now;
    this.schedule(before, now);
  }

  tick(): void {
    if (++this.ticks % this.deps.fullPassTicks !== 0) return;
    const now = this.view();
    this.schedule({ self: this.deps.self, predecessor: undefined, successors: [] }, now, true);
  }

  /** Graceful leave: hands every chunk this node owns to its successor (best effort). Resolves to the count. */
  async handOver(): Promise<number> {
    const { predecessor, successors } = this.view();
    const to = successors[0];
    if (!to || predecessor === undefined) return 0;
    const held = await this.placedChunks();
    const moves = localRereplication(held, { self: this.deps.self, predecessor: undefined, successors: [] }, { self: this.deps.self, predecessor, successors: [to] }, 2);
    return this.push(to, moves.map((m) => m.chunk), 'handover');
  }

  private view(): LocalView {
    const { predecessor, successors } = this.deps.neighbours();
    return { self: this.deps.self, predecessor, successors };
  }

  private schedule(before: LocalView, now: LocalView, sweep = false): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.pass(before, now, sweep).finally(() => {
      this.running = false;
      this.lastPassAt = this.deps.now();
      this.deps.changed();
      if (this.again) {
        this.again = false;
        this.schedule({ self: this.deps.self, predecessor: undefined, successors: [] }, this.view());
      }
    });
  }

  /** Chunks held here that the ring places (named-object values are pinned: they are placed by name). */
  private async placedChunks(): Promise<string[]> {
    return (await this.deps.store.list()).filter((c) => !this.deps.pinned(c));
  }

  private async pass(before: LocalView, now: LocalView, sweep: boolean): Promise<void> {
    const held = await this.placedChunks();
    const moves = localRereplication(held, before, now, this.deps.replicas);
    const byTarget = new Map<PeerId, string[]>();
    for (const { chunk, to } of moves) {
      let list = byTarget.get(to);
      if (!list) byTarget.set(to, (list = []));
      list.push(chunk);
    }
    await Promise.all([...byTarget].map(([to, chunks]) => this.push(to, chunks, 'put')));
    if (sweep && now.predecessor !== undefined) await this.sweep(held, now.predecessor);
  }

  /**
   * A chunk can sit on peers that are not its replica set (it was placed while the ring was still settling, the
   * ring moved on, or its owner lost it). Each full pass checks a few of the chunks held here but owned elsewhere:
   * if the owner lacks one, it gets a copy and replicates it from there; if this node is not in the chunk's
   * replica set and every member holds it, the copy here is a stray and goes after the grace period.
   */
  private async sweep(held: string[], predecessor: PeerId): Promise<void> {
    const self = positionOf(this.deps.self);
    const pred = positionOf(predecessor);
    this.strays.retain(new Set(held));
    const foreign = held.filter((c) => !inHalfOpen(positionOf(chunkRingKey(c)), pred, self));
    if (foreign.length === 0) return;
    const start = this.sweepCursor % foreign.length;
    const batch = [...foreign.slice(start), ...foreign.slice(0, start)].slice(0, SWEEP_BATCH);
    this.sweepCursor = start + batch.length;
    for (const chunk of batch) {
      try {
        const owner = await this.deps.lookup(chunkRingKey(chunk));
        if (owner === this.deps.self) continue;
        const holders = await this.holdersAt(owner, chunk);
        const others = holders.filter((h) => h !== this.deps.self);
        const having = await Promise.all(others.map((h) => this.holds(h, chunk)));
        if (!having[others.indexOf(owner)]) {
          const bytes = await this.deps.store.get(chunk);
          if (!bytes) continue;
          await this.deps.ask(owner, { t: 'put', chunk, replicate: true }, bytes);
          this.copiesPushed++;
          this.deps.log('info', `chunk ${chunk.slice(0, 12)}… was missing at its owner ${owner.slice(0, 8)}; copied it there`);
          continue;
        }
        const check = { holder: holders.includes(this.deps.self), confirmedElsewhere: having.filter(Boolean).length };
        if (this.strays.observe(chunk, check, this.deps.now()) === 'delete' && (await this.deps.store.delete(chunk))) {
          this.straysDeleted++;
          this.deps.changed();
          this.deps.log('info', `deleted stray copy of ${chunk.slice(0, 12)}…: its ${holders.length} replica holders have it`);
        }
      } catch (err) {
        this.deps.log('info', `sweep of ${chunk.slice(0, 12)}… stopped: ${messageOf(err)}`);
      }
    }
  }

  /** A chunk's replica set as its owner sees it. */
  private async holdersAt(owner: PeerId, chunk: string): Promise<PeerId[]> {
    const reply = await this.deps.ask(owner, { t: 'locate', chunk });
    return reply.msg.t === 'holders' && reply.msg.holders.length > 0 ? reply.msg.holders : [owner];
  }

  private async holds(peer: PeerId, chunk: string): Promise<boolean> {
    try {
      const reply = await this.deps.ask(peer, { t: 'has', chunks: [chunk] });
      return reply.msg.t === 'have' && reply.msg.chunks.includes(chunk);
    } catch {
      return false;
    }
  }

  /** Copies to `to` the chunks it lacks; returns how many were copied. */
  private async push(to: PeerId, chunks: string[], kind: 'put' | 'handover'): Promise<number> {
    let copied = 0;
    try {
      for (let i = 0; i < chunks.length; i += MAX_HAS_LIST) {
        const batch = chunks.slice(i, i + MAX_HAS_LIST);
        const reply = await this.deps.ask(to, { t: 'has', chunks: batch });
        const held = new Set(reply.msg.t === 'have' ? reply.msg.chunks : []);
        for (const chunk of batch) {
          if (held.has(chunk)) continue;
          const bytes = await this.deps.store.get(chunk);
          if (!bytes) continue;
          const msg: OutgoingRequest = kind === 'put' ? { t: 'put', chunk, replicate: false } : { t: 'handover', chunk };
          await this.deps.ask(to, msg, bytes);
          copied++;
          this.copiesPushed++;
        }
      }
    } catch (err) {
      this.deps.log('info', `re-replication to ${to.slice(0, 8)} stopped: ${messageOf(err)}`);
    }
    if (copied > 0) this.deps.log('info', `${kind === 'put' ? 're-replicated' : 'handed over'} ${copied} chunk(s) to ${to.slice(0, 8)}`);
    return copied;
  }
}
