/**
 * The simulated network shared by the cycle and the event engine: nodes (each a set of unchanged
 * `Protocol<M>`s with its own seeded rng drawn from the master seed), the transport, and the carrying out of
 * effects. A message to a node that is gone is dropped and, if `peerDownOnDeadLink` (the default), every protocol
 * of the sender hears `onPeerDown`, as a real runtime does when a link fails.
 *
 * The engines decide *when* things happen; this file decides *what* happens.
 */
import type { PeerId } from '../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../core/protocol.ts';
import { createRng, type Rng } from '../core/rng.ts';
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
    const node: SimNode = { id, index: this.all.length, rng, protocols: factory(id, rng), alive: true };
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
    for (const p of node.protocols) this.carryOut(node, p.name, p.onTick(ctx));
  }

  /** Delivers an envelope now (called by the engine when its time has come). */
  deliver(env: SimEnvelope): void {
    const target = this.byId.get(env.to);
    if (!target || !target.alive) {
      this.stats.toDeadNodes++;
      const sender = this.byId.get(env.from);
      if (this.peerDownOnDeadLink && sender && sender.alive) this.peerDown(sender, env.to);
      return;
    }
    const protocol = findProtocol(target, env.protocol);
    if (!protocol) return;
    this.stats.delivered++;
    this.carryOut(target, protocol.name, protocol.onMessage(this.ctx(target), env.from, env.msg));
  }

  private peerDown(node: SimNode, peer: PeerId): void {
    for (const p of node.protocols) {
      if (p.onPeerDown) this.carryOut(node, p.name, p.onPeerDown(this.ctx(node), peer));
    }
  }

  private carryOut(node: SimNode, protocol: string, effects: readonly Effect<unknown>[]): void {
    for (const effect of effects) {
      if (effect.kind !== 'send' || effect.to === node.id) continue;
      this.stats.sent++;
      const env: SimEnvelope = { from: node.id, to: effect.to, protocol, msg: effect.msg };
      const delay = this.transport.route(env);
      if (delay === null) this.stats.lost++;
      else this.scheduler(env, delay);
    }
  }

  private ctx(node: SimNode): ProtocolContext {
    return { self: node.id, now: this.now, rng: node.rng };
  }
}

function findProtocol(node: SimNode, name: string): AnyProtocol | undefined {
  for (const p of node.protocols) if (p.name === name) return p;
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
