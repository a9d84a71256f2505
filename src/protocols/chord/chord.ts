/**
 * The Chord DHT (Stoica, Morris, Liben-Nowell, Karger, Kaashoek, Dabek, Balakrishnan, "Chord: A Scalable
 * Peer-to-peer Lookup Protocol for Internet Applications", IEEE/ACM ToN 11(1), 2003) as a pure state machine.
 *
 * Every tick runs the paper's periodic tasks: stabilize (ask the successor for its predecessor and successor
 * list, then notify it), check_predecessor (ping) and fix_fingers (one finger lookup per tick; the fingers that
 * share a successor are filled together, so about log2 N lookups build the table). A node joins by looking up its
 * own id through any known peer (onPeersDiscovered, or the peer-sampling View when it has no successor).
 *
 * Lookups are routed *recursively*: each hop forwards `find` to its closest preceding finger and the last hop
 * answers the origin directly. In Nephele every hop is a WebRTC link; recursive routing only uses links a node
 * already keeps (its fingers and successors), where iterative routing would make the origin open a connection
 * to every hop. The cost is that a dead hop is seen by its predecessor on the path, not by the origin: so each
 * node remembers what it forwarded for `timeoutTicks` and re-routes it through the next best finger when the
 * runtime reports the next hop down (onPeerDown). Lost answers are covered by the origin's timeout and retries.
 *
 * Rings that formed apart (two groups of peers that joined before they saw each other) never merge by
 * stabilize alone, since every node's successor is right within its own ring. So every `mergeCheckTicks` a node
 * looks its own id up through a random peer from the peer-sampling view: in its own ring the answer is itself;
 * in another ring it is the node that follows its id there, and if that lies between it and its successor it
 * becomes the successor. Stabilize and notify then splice the two rings together (the random-lookup repair of
 * ring partitions; cf. Stoica et al. 2003 §4.4 on loopy and split rings).
 *
 * Adaptive stabilisation (`maxRoundIntervalTicks` > 1; the paper runs its periodic tasks at a fixed rate): a round
 * (stabilize, check_predecessor, one fix_fingers lookup) that finds successors, predecessor and fingers unchanged
 * doubles the ticks to the next round, up to the cap; any change of them (a join, a dropped neighbour, a moved
 * finger) brings rounds back to every tick (adaptive-interval.ts). So that a change in a node's successor list does
 * not travel back one predecessor per interval, such a node sends its `pred` answer unasked to its predecessor (and
 * the previous one): repairs spread at message speed. A silent dead neighbour is dropped at most one interval later.
 *
 * Slow peers (`maxReplyTimeoutTicks`, `maxLookupTimeoutTicks` above their base): a neighbour taken for dead that is
 * heard from afterwards, or a lookup answered after it was given up on, doubles the timeout concerned up to its cap,
 * and answers in time halve it back (silence-detector.ts); a late answer to a join names a successor all the same.
 * Answers nobody asked for change nothing. Fixed timeouts below the round trip of loaded browser peers emptied every
 * successor list of a 32-peer ring.
 *
 * Hops count forwardings: a key the origin resolves from its own successor takes 0 hops.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import { isPeerId } from '../../core/ids.ts';
import type { ChordMessage } from '../../wire/chord.ts';
import { MAX_HOPS } from '../../wire/chord.ts';
import type { View } from '../peer-sampling/view.ts';
import { AdaptiveInterval } from '../adaptive-interval.ts';
import { FingerTable } from './finger-table.ts';
import { PendingLookups, type LookupPurpose, type LookupResult, type PendingLookup } from './pending-lookups.ts';
import { distance, hexOf, inHalfOpen, inOpen, positionOf, RING_BITS, ringNode, type RingNode } from './ring.ts';
import { GrowingTimeout, SilenceDetector } from './silence-detector.ts';
import type { ChordOptions } from './chord-options.ts';
import { SuccessorList } from './successor-list.ts';

export type { LookupResult } from './pending-lookups.ts';

export type { ChordOptions } from './chord-options.ts';

const RING_ID = /^[0-9a-f]{40}$/;

type Find = Extract<ChordMessage, { t: 'find' }>;
type Out = Effect<ChordMessage>[];

interface InFlight {
  readonly msg: Find;
  readonly keyPos: bigint;
}

export class Chord implements Protocol<ChordMessage> {
  readonly name = 'chord';
  readonly self: RingNode;
  readonly fingers: FingerTable;
  readonly successors: SuccessorList;
  private predecessorNode: RingNode | undefined;
  private readonly pending = new PendingLookups();
  private completed: LookupResult[] = [];
  /**
   * Lookups this node forwarded, by next hop, kept for re-routing if that hop turns out dead. Two generations,
   * rotated every lookupTimeoutTicks, so an entry lives between one and two timeouts at O(1) cost per tick.
   */
  private inFlight = new Map<PeerId, InFlight[]>();
  private inFlightOld = new Map<PeerId, InFlight[]>();
  /** The stabilize and ping answers awaited, and when silence means dead. */
  readonly silence: SilenceDetector;
  private nextFinger = 0;
  private ticks = 0;
  private readonly lookupTimeout: GrowingTimeout;
  private readonly lookupAttempts: number;
  private readonly view: View | undefined;
  private readonly mergeCheckTicks: number;
  /** The tick of the last merge check (checkForOtherRing). */
  private lastMergeCheck = 0;
  private readonly rounds: AdaptiveInterval;
  /** The successor list version and predecessor last announced to the predecessor (adaptive mode only). */
  private announcedSuccessors = 0;
  private announcedPred: PeerId | undefined;

  constructor(self: PeerId, options: ChordOptions = {}) {
    this.self = ringNode(self);
    this.fingers = new FingerTable(this.self);
    this.successors = new SuccessorList(this.self, options.successors ?? 8);
    this.lookupTimeout = new GrowingTimeout(options.lookupTimeoutTicks ?? 4, options.maxLookupTimeoutTicks);
    this.lookupAttempts = options.lookupAttempts ?? 3;
    this.silence = new SilenceDetector(options.replyTimeoutTicks ?? 3, options.maxReplyTimeoutTicks);
    this.view = options.view;
    this.mergeCheckTicks = options.mergeCheckTicks ?? 10;
    this.rounds = new AdaptiveInterval(options.maxRoundIntervalTicks ?? 1);
  }

  /** Ticks between maintenance rounds at the moment (1 while anything changes; see maxRoundIntervalTicks). */
  currentRoundInterval(): number {
    return this.rounds.current;
  }

  successor(): PeerId | undefined {
    return this.successors.first()?.id;
  }

  predecessor(): PeerId | undefined {
    return this.predecessorNode?.id;
  }

  /**
   * Starts a lookup of `keyHex` (40 lowercase hex); its result appears in takeCompleted(). A malformed key
   * completes at once as a failure with E_CHORD_BAD_KEY.
   */
  lookup(ctx: ProtocolContext, keyHex: string, requestId: string): Out {
    if (!RING_ID.test(keyHex)) {
      this.completed.push({ ok: false, requestId, key: keyHex, code: 'E_CHORD_BAD_KEY', attempts: 0 });
      return [];
    }
    return this.startLookup(ctx, keyHex, positionOf(keyHex), { kind: 'user', requestId });
  }

  /** The caller's lookups finished since the last call (answers and failures), oldest first. */
  takeCompleted(): LookupResult[] {
    const out = this.completed;
    this.completed = [];
    return out;
  }

  /** Joins the ring through `via` by looking up the successor of this node's own id. */
  join(ctx: ProtocolContext, via: PeerId): Out {
    if (via === this.self.id) return [];
    const p = this.pending.open(this.self.id, this.self.pos, { kind: 'join', via }, this.ticks);
    return [this.sendFind(via, { t: 'find', id: p.id, key: this.self.id, origin: this.self.id, hops: 1 }, this.self.pos)];
  }

  /**
   * What a completed join does: take `id` as the successor. Stabilize then finds the predecessor and fills the
   * successor list. Simulations call it in bulk to seed a large ring without a join lookup per node.
   */
  adoptSuccessor(id: PeerId): void {
    if (id === this.self.id) return;
    this.successors.prepend(this.nodeFor(id));
  }

  onTick(ctx: ProtocolContext): Out {
    this.ticks++;
    const out: Out = [];
    for (const silent of this.silence.overdue(this.ticks)) {
      out.push({ kind: 'log', level: 'info', text: `E_CHORD_SILENT: ${silent.slice(0, 8)} did not answer within ${this.silence.timeoutTicks} ticks; taken for dead` });
      out.push(...this.peerDown(ctx, silent));
    }
    out.push(...this.retryOverdue(ctx));
    this.expireInFlight();
    const succ = this.successors.first();
    if (!succ) {
      const via = this.view?.sample(1, ctx.rng)[0];
      if (via && !this.pending.some((p) => p.purpose.kind === 'join')) out.push(...this.join(ctx, via));
      return out;
    }
    out.push(...this.announceChanges());
    if (!this.rounds.due(this.ticks, `${this.successors.version}/${this.fingers.version}/${this.predecessorNode?.id}`)) return out;
    // stabilize
    if (this.silence.awaiting('pred') !== succ.id) {
      this.silence.expect('pred', succ.id, this.ticks);
      out.push({ kind: 'send', to: succ.id, msg: { t: 'get-pred' } });
    }
    // check_predecessor
    if (this.predecessorNode && this.silence.awaiting('pong') === undefined) {
      this.silence.expect('pong', this.predecessorNode.id, this.ticks);
      out.push({ kind: 'send', to: this.predecessorNode.id, msg: { t: 'ping' } });
    }
    out.push(...this.fixNextFinger(ctx, succ));
    out.push(...this.checkForOtherRing(ctx, succ));
    return out;
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: ChordMessage): Out {
    this.silence.heard(from);
    switch (msg.t) {
      case 'find':
        return this.route(ctx, msg, positionOfValid(msg.key));
      case 'found':
        return this.onFound(msg.id, msg.key, msg.owner, msg.hops);
      case 'get-pred': {
        const answer: Out = [{ kind: 'send', to: from, msg: { t: 'pred', pred: this.predecessorNode?.id ?? null, succs: this.successors.ids() } }];
        this.considerSuccessor(this.nodeFor(from));
        return answer;
      }
      case 'pred':
        return this.onPredAnswer(from, msg.pred, msg.succs);
      case 'notify':
        this.onNotify(from);
        return [];
      case 'ping':
        return [{ kind: 'send', to: from, msg: { t: 'pong' } }];
      case 'pong':
        this.silence.answered('pong', from);
        return [];
    }
  }

  onPeerDown(ctx: ProtocolContext, peer: PeerId): Out {
    return this.peerDown(ctx, peer);
  }

  onPeersDiscovered(ctx: ProtocolContext, peers: readonly PeerId[]): Out {
    if (this.successors.size > 0 || this.pending.some((p) => p.purpose.kind === 'join')) return [];
    const candidates = peers.filter((p) => p !== this.self.id && isPeerId(p));
    const via = ctx.rng.pick(candidates);
    return via ? this.join(ctx, via) : [];
  }

  // ---- lookups ----

  private startLookup(ctx: ProtocolContext, key: string, keyPos: bigint, purpose: LookupPurpose): Out {
    const p = this.pending.open(key, keyPos, purpose, this.ticks);
    return this.route(ctx, { t: 'find', id: p.id, key, origin: this.self.id, hops: 0 }, keyPos);
  }

  /** The paper's find_successor, one step: answer if the key is ours to answer, else forward. */
  private route(ctx: ProtocolContext, msg: Find, keyPos: bigint): Out {
    const succ = this.successors.first();
    let owner: RingNode | undefined;
    if (!succ || keyPos === this.self.pos) owner = this.self;
    else if (inHalfOpen(keyPos, this.self.pos, succ.pos)) owner = succ;
    if (owner) {
      if (msg.origin === this.self.id) return this.onFound(msg.id, msg.key, owner.id, msg.hops);
      return [{ kind: 'send', to: msg.origin, msg: { t: 'found', id: msg.id, key: msg.key, owner: owner.id, hops: msg.hops } }];
    }
    if (msg.hops >= MAX_HOPS) return [{ kind: 'log', level: 'warn', text: `E_CHORD_TOO_MANY_HOPS: dropped lookup ${msg.id} from ${msg.origin.slice(0, 8)}` }];
    const next = this.closestPreceding(keyPos) ?? succ!;
    return [this.sendFind(next.id, { ...msg, hops: msg.hops + 1 }, keyPos)];
  }

  /** closest_preceding_node over the fingers and the successor list: the known node nearest before the key. */
  private closestPreceding(keyPos: bigint): RingNode | undefined {
    const f = this.fingers.closestPreceding(keyPos);
    const s = this.successors.closestPreceding(keyPos);
    if (!f) return s;
    if (!s) return f;
    return distance(this.self.pos, f.pos) >= distance(this.self.pos, s.pos) ? f : s;
  }

  private sendFind(to: PeerId, msg: Find, keyPos: bigint): Effect<ChordMessage> {
    let list = this.inFlight.get(to);
    if (!list) this.inFlight.set(to, (list = []));
    list.push({ msg, keyPos });
    return { kind: 'send', to, msg };
  }

  private onFound(id: number, key: string, owner: PeerId, hops: number): Out {
    const p = this.pending.close(id, key);
    if (!p) {
      // An answer to a lookup this node gave up on (not one nobody asked for): the timeout was too short for this
      // network (when it may grow). A late join or merge answer still names a live node's view of the successor.
      const late = this.pending.closeGivenUp(id, key);
      if (!late) return [];
      this.lookupTimeout.late();
      const kind = late.purpose.kind;
      if ((kind === 'join' || kind === 'merge') && owner !== this.self.id) this.considerSuccessor(this.nodeFor(owner));
      return [];
    }
    this.lookupTimeout.onTime();
    const purpose = p.purpose;
    if (purpose.kind === 'user') {
      this.completed.push({ ok: true, requestId: purpose.requestId, key, owner, hops, attempts: p.attempts });
    } else if (purpose.kind === 'join') {
      this.adoptSuccessor(owner);
    } else if (purpose.kind === 'merge') {
      if (owner !== this.self.id) this.considerSuccessor(this.nodeFor(owner));
    } else {
      const next = this.fingers.fill(purpose.index, this.nodeFor(owner));
      this.nextFinger = next >= RING_BITS ? 0 : next;
    }
    return [];
  }

  private retryOverdue(ctx: ProtocolContext): Out {
    const out: Out = [];
    for (const p of this.pending.overdue(this.ticks, this.lookupTimeout.ticks)) {
      if (p.purpose.kind !== 'user' || p.attempts >= this.lookupAttempts) {
        this.pending.giveUp(p.id);
        if (p.purpose.kind === 'user') {
          this.completed.push({ ok: false, requestId: p.purpose.requestId, key: p.key, code: 'E_CHORD_LOOKUP_TIMEOUT', attempts: p.attempts });
        }
        continue;
      }
      p.attempts++;
      p.sentAt = this.ticks;
      out.push(...this.route(ctx, { t: 'find', id: p.id, key: p.key, origin: this.self.id, hops: 0 }, p.keyPos));
    }
    return out;
  }

  private expireInFlight(): void {
    if (this.ticks % this.lookupTimeout.ticks !== 0) return;
    this.inFlightOld = this.inFlight;
    this.inFlight = new Map();
  }

  // ---- stabilization ----

  /** Adaptive mode: the stabilize answer, unasked, to the predecessor(s) when this node's neighbours changed. */
  private announceChanges(): Out {
    if (this.rounds.max <= 1) return [];
    const pred = this.predecessorNode?.id;
    const previous = this.announcedPred;
    if (this.successors.version === this.announcedSuccessors && pred === previous) return [];
    this.announcedSuccessors = this.successors.version;
    this.announcedPred = pred;
    const to = new Set<PeerId>();
    if (pred !== undefined) to.add(pred);
    if (previous !== undefined && previous !== pred) to.add(previous);
    const msg: ChordMessage = { t: 'pred', pred: pred ?? null, succs: this.successors.ids() };
    return [...to].map((peer) => ({ kind: 'send', to: peer, msg }));
  }

  private fixNextFinger(ctx: ProtocolContext, succ: RingNode): Out {
    if (this.nextFinger === 0) this.nextFinger = this.fingers.fill(0, succ);
    if (this.nextFinger >= RING_BITS) {
      this.nextFinger = 0;
      return [];
    }
    const index = this.nextFinger;
    if (this.pending.some((p) => p.purpose.kind === 'finger')) return [];
    const start = this.fingers.start(index);
    return this.startLookup(ctx, hexOf(start), start, { kind: 'finger', index });
  }

  /**
   * In the first round at least mergeCheckTicks after the last check: look this node's own id up through a random
   * view peer (see the file comment). Counted from the last check, not as ticks that are multiples of
   * mergeCheckTicks: with adaptive rounds every 8 ticks, a node whose rounds fell on odd ticks never met a multiple
   * of 10, so a small ring that formed apart (two peers that joined through each other) stayed apart for good.
   */
  private checkForOtherRing(ctx: ProtocolContext, succ: RingNode): Out {
    if (this.mergeCheckTicks <= 0 || this.ticks - this.lastMergeCheck < this.mergeCheckTicks || !this.view) return [];
    this.lastMergeCheck = this.ticks;
    if (this.pending.some((p) => p.purpose.kind === 'merge')) return [];
    const via = this.view.sample(1, ctx.rng)[0];
    if (!via || via === this.self.id || via === succ.id || !isPeerId(via)) return [];
    const p = this.pending.open(this.self.id, this.self.pos, { kind: 'merge', via }, this.ticks);
    return [this.sendFind(via, { t: 'find', id: p.id, key: this.self.id, origin: this.self.id, hops: 1 }, this.self.pos)];
  }

  private onPredAnswer(from: PeerId, pred: PeerId | null, succs: readonly PeerId[]): Out {
    this.silence.answered('pred', from);
    const succ = this.successors.first();
    if (!succ || succ.id !== from) return [];
    this.successors.reconcile(succ, succs.map((id) => this.nodeFor(id)));
    if (pred !== null && pred !== this.self.id) {
      const x = this.nodeFor(pred);
      if (inOpen(x.pos, this.self.pos, succ.pos)) this.successors.prepend(x);
    }
    const now = this.successors.first();
    return now ? [{ kind: 'send', to: now.id, msg: { t: 'notify' } }] : [];
  }

  private onNotify(from: PeerId): void {
    const n = this.nodeFor(from);
    const pred = this.predecessorNode;
    if (!pred || inOpen(n.pos, pred.pos, this.self.pos)) {
      this.predecessorNode = n;
      this.silence.cancel('pong');
    }
    this.considerSuccessor(n);
  }

  /**
   * A live peer that takes us for its successor (it notified us or asked for our predecessor) and lies between
   * us and our successor is a closer successor. This is how a node alone on the ring learns of its first peer,
   * and it shortens the walk that stabilize alone would need after many concurrent joins.
   */
  private considerSuccessor(n: RingNode): void {
    const succ = this.successors.first();
    if (!succ || inOpen(n.pos, this.self.pos, succ.pos)) this.successors.prepend(n);
  }

  private peerDown(ctx: ProtocolContext, peer: PeerId): Out {
    this.successors.remove(peer);
    this.fingers.remove(peer);
    if (this.predecessorNode?.id === peer) this.predecessorNode = undefined;
    if (this.announcedPred === peer) this.announcedPred = undefined; // gone: nothing to tell it
    this.silence.forget(peer);
    if (this.successors.size === 0) {
      // The list ran dry: the nearest finger (or the predecessor) stands in; stabilize walks back from it.
      const standIn = this.fingers.distinct()[0] ?? this.predecessorNode;
      if (standIn) this.successors.insert(standIn);
    }
    const stranded = [...(this.inFlightOld.get(peer) ?? []), ...(this.inFlight.get(peer) ?? [])];
    this.inFlight.delete(peer);
    this.inFlightOld.delete(peer);
    const out: Out = [];
    for (const e of stranded) out.push(...this.route(ctx, { ...e.msg, hops: e.msg.hops - 1 }, e.keyPos));
    return out;
  }

  /** A RingNode for an id, reusing the one already held (saves re-parsing 160-bit ids every stabilize). */
  private nodeFor(id: PeerId): RingNode {
    for (const n of this.successors.nodes()) if (n.id === id) return n;
    if (this.predecessorNode?.id === id) return this.predecessorNode;
    return ringNode(id);
  }
}

/** Position of a key that already passed the wire decoder (skips the pattern check on the hot path). */
function positionOfValid(hex: string): bigint {
  return BigInt('0x' + hex);
}
