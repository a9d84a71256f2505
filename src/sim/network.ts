/**
 * The simulated network shared by the cycle and the event engine: nodes (each a set of unchanged
 * `Protocol<M>`s with its own seeded rng drawn from the master seed), the transport, and the carrying out of
 * effects. A message to a node that is gone is dropped and, if `peerDownOnDeadLink` (the default), every protocol
 * of the sender hears `onPeerDown`, as a real runtime does when a link fails.
 *
 * The engines decide *when* things happen; this file decides *what* happens.
 *
 * At 10^5 nodes the simulator's time goes mostly to cache misses, so the hot path avoids memory reads it can: a
 * node holds its first protocols in fields, an envelope carries the nodes at both ends (an answer goes back to its
 * sender without a lookup), and ids are never compared as strings where nodes can be compared instead.
 */
import type { PeerId } from '../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../core/protocol.ts';
import { createRng, touchRng, type Rng } from '../core/rng.ts';
import { memoryTransport, type SimEnvelope, type Transport } from './transport.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProtocol = Protocol<any>;

export interface SimNode {
  readonly id: PeerId;
  /** Position in creation order (stable, used by metrics). */
  readonly index: number;
  readonly rng: Rng;
  readonly protocols: readonly AnyProtocol[];
  alive: boolean;
}

/** Builds a node's protocol stack. Called once per node, with the node's id and rng. */
export type NodeFactory = (id: PeerId, rng: Rng) => AnyProtocol[];

export interface SimNetworkOptions {
  readonly seed: number;
  readonly transport?: Transport;
  /** Tell the sender's protocols `onPeerDown` when a message hits a removed node (default true). */
  readonly peerDownOnDeadLink?: boolean;
}

export interface SimStats {
  sent: number;
  delivered: number;
  lost: number;
  toDeadNodes: number;
}

/** Where the engine wants envelopes handed for later delivery. */
export type Scheduler = (env: SimEnvelope, delayMs: number) => void;

export class SimNetwork {
  readonly stats: SimStats = { sent: 0, delivered: 0, lost: 0, toDeadNodes: 0 };
  /** Every node ever added, in creation order (removed ones stay, with alive = false). */
  readonly all: SimNode[] = [];
  private readonly byId = new Map<PeerId, SimNode>();
  private readonly master: Rng;
  private readonly transport: Transport;
  private readonly peerDownOnDeadLink: boolean;
  private liveCache: SimNode[] | null = null;
  /** Simulated clock, ms; set by the engine. */
  now = 0;
  scheduler: Scheduler = () => {
    throw new Error('E_SIM_NO_ENGINE: attach the network to an engine before running it');
  };

  constructor(options: SimNetworkOptions) {
    this.master = createRng(options.seed);
    this.transport = options.transport ?? memoryTransport();
    this.peerDownOnDeadLink = options.peerDownOnDeadLink ?? true;
  }

  /** The master rng (for churn choices and bootstrap); nodes have their own. */
  get rng(): Rng {
    return this.master;
  }

  addNode(factory: NodeFactory): SimNode {
    let id = randomPeerId(this.master);
    while (this.byId.has(id)) id = randomPeerId(this.master);
    const rng = createRng(this.master.int(0x1_0000_0000));
    const node = new Node(id, this.all.length, rng, factory(id, rng));
    this.all.push(node);
    this.byId.set(id, node);
    this.liveCache = null;
    return node;
  }

  addNodes(count: number, factory: NodeFactory): SimNode[] {
    return Array.from({ length: count }, () => this.addNode(factory));
  }

  /** The node leaves silently (crash): messages to it are dropped from now on. */
  removeNode(id: PeerId): void {
    const node = this.byId.get(id);
    if (!node || !node.alive) return;
    node.alive = false;
    this.liveCache = null;
  }

  node(id: PeerId): SimNode | undefined {
    return this.byId.get(id);
  }

  isAlive(id: PeerId): boolean {
    return this.byId.get(id)?.alive === true;
  }

  /** Live nodes in creation order (cached until membership changes; do not mutate). */
  live(): readonly SimNode[] {
    this.liveCache ??= this.all.filter((n) => n.alive);
    return this.liveCache;
  }

  /** Hands a node the peers it learned from outside (bootstrap), on every protocol that listens. */
  discover(node: SimNode, peers: readonly PeerId[]): void {
    for (const p of node.protocols) {
      if (p.onPeersDiscovered) this.carryOut(node, p.name, p.onPeersDiscovered(this.ctx(node), peers));
    }
  }

  /** One tick of every protocol of the node. */
  tick(node: SimNode): void {
    if (!node.alive) return;
    const ctx = this.ctx(node);
    const { p0, p1, count } = node as Node;
    if (p0 !== undefined) this.carryOut(node, p0.name, p0.onTick(ctx));
    if (p1 !== undefined) this.carryOut(node, p1.name, p1.onTick(ctx));
    for (let i = 2; i < count; i++) {
      const p = node.protocols[i]!;
      this.carryOut(node, p.name, p.onTick(ctx));
    }
  }

  /**
   * Reads, without changing anything, what the engine's next ticks will need first: the node two ticks ahead, and
   * the first protocol, id and rng of the next one. At 10^5 nodes each is a cache miss; taken here, while the
   * current node's work goes on, they overlap with it instead of stalling the next tick one after another.
   * Returns a number made of what it read, which the caller keeps, so that the reads are not optimised away.
   */
  touchAhead(far: SimNode, near: SimNode): number {
    return (far.alive ? 1 : 0) ^ ((near as Node).p0?.name.length ?? 0) ^ near.id.length ^ touchRng(near.rng);
  }

  /** Delivers an envelope now (called by the engine when its time has come). */
  deliver(env: SimEnvelope): void {
    const routed = env instanceof Routed ? env : null;
    const target = routed?.target ?? this.byId.get(env.to);
    if (!target || !target.alive) {
      this.stats.toDeadNodes++;
      const sender = routed !== null ? routed.source : this.byId.get(env.from);
      if (this.peerDownOnDeadLink && sender && sender.alive) this.peerDown(sender, env.to);
      return;
    }
    const protocol = findProtocol(target, env.protocol);
    if (!protocol) return;
    this.stats.delivered++;
    const effects = protocol.onMessage(this.ctx(target), env.from, env.msg);
    this.carryOut(target, protocol.name, effects, routed !== null ? routed.source : undefined);
  }

  private peerDown(node: SimNode, peer: PeerId): void {
    for (const p of node.protocols) {
      if (p.onPeerDown) this.carryOut(node, p.name, p.onPeerDown(this.ctx(node), peer));
    }
  }

  /** `origin`: the sender of the message being handled, if known (an answer to it needs no lookup). */
  private carryOut(node: SimNode, protocol: string, effects: readonly Effect<unknown>[], origin?: SimNode): void {
    for (const effect of effects) {
      if (effect.kind !== 'send') continue;
      // The receiver, found now (the sender of the message being answered needs no lookup); comparing nodes
      // rather than ids spares reading the sender's id string, which V8's === does even for the same string.
      const target = origin !== undefined && effect.to === origin.id ? origin : this.byId.get(effect.to);
      if (target === node) continue;
      this.stats.sent++;
      const env = new Routed(node.id, effect.to, protocol, effect.msg, node, target);
      const delay = this.transport.route(env);
      if (delay === null) this.stats.lost++;
      else this.scheduler(env, delay);
    }
  }

  private ctx(node: SimNode): ProtocolContext {
    return { self: node.id, now: this.now, rng: node.rng };
  }
}

/** Every SimNode is one of these (addNode makes them). */
class Node implements SimNode {
  alive = true;
  /** The first two protocols and their number, so that a tick or a delivery reads no array. */
  readonly p0: AnyProtocol | undefined;
  readonly p1: AnyProtocol | undefined;
  readonly count: number;
  constructor(
    readonly id: PeerId,
    readonly index: number,
    readonly rng: Rng,
    readonly protocols: readonly AnyProtocol[],
  ) {
    this.p0 = protocols[0];
    this.p1 = protocols[1];
    this.count = protocols.length;
  }
}

/** An envelope this network made: it knows the sending node, and the receiving one when no lookup was needed. */
class Routed implements SimEnvelope {
  constructor(
    readonly from: PeerId,
    readonly to: PeerId,
    readonly protocol: string,
    readonly msg: unknown,
    readonly source: SimNode,
    readonly target: SimNode | undefined,
  ) {}
}

function findProtocol(node: SimNode, name: string): AnyProtocol | undefined {
  const { p0, p1, count } = node as Node;
  if (p0 !== undefined && p0.name === name) return p0;
  if (p1 !== undefined && p1.name === name) return p1;
  for (let i = 2; i < count; i++) if (node.protocols[i]!.name === name) return node.protocols[i];
  return undefined;
}

const HEX = '0123456789abcdef';

/**
 * A uniformly random 160-bit id, as 40 lowercase hex characters. Built with join, not `+=`: a concatenated
 * string stays a rope in V8 and every later comparison of ids pays to walk it (it made the simulator 10x slower).
 */
export function randomPeerId(rng: Rng): PeerId {
  const chars = new Array<string>(40);
  for (let i = 0; i < 40; i++) chars[i] = HEX[rng.int(16)]!;
  return chars.join('');
}
