/**
 * Test fixture: real NodeCores joined by an in-memory network that delivers frames asynchronously and whole.
 * Two ways to wire it:
 *
 * - `meshCloud`: every node is linked to every other from the start (the compute tests);
 * - `storageCloud`: links open only when a node asks to connect, peers arrive one after another bootstrapped
 *   with the few already there (as the signaling server does), and the call resolves once the storage ring has
 *   formed (the storage tests). Nodes can be killed and restarted with the same identity and chunk store.
 *
 * `stopNetworks` (call it in afterEach) stops every node the fixtures started.
 */
import type { PeerId } from '../../../src/core/ids.ts';
import { generateIdentity, type Identity } from '../../../src/identity/identity.ts';
import type { EdgeCommands } from '../../../src/net/types.ts';
import { NodeCore, type NodeCoreOptions } from '../../../src/runtime/node-core.ts';
import type { ServiceFactory } from '../../../src/runtime/node-service.ts';
import { storageService, type StorageServiceOptions } from '../../../src/runtime/services/storage-service.ts';
import type { StorageSnapshot } from '../../../src/runtime/services/storage-types.ts';
import { MemoryChunkStore } from '../../../src/store/memory-chunk-store.ts';
import { MemoryRecordStore } from '../../../src/store/record-store.ts';

export interface CoreNetworkOptions {
  /** 'on-connect': a link exists once either side asked to connect; 'mesh': every pair of nodes is linked. */
  readonly links: 'on-connect' | 'mesh';
  /** Delay of each frame (ms). */
  readonly delayMs: number;
}

export class CoreNetwork {
  readonly nodes = new Map<PeerId, NodeCore>();
  private readonly links = new Map<PeerId, Set<PeerId>>();

  constructor(private readonly options: CoreNetworkOptions) {
    networks.add(this);
  }

  /** Adds a core, attaches its edge (it is not started). */
  add(core: NodeCore): NodeCore {
    this.nodes.set(core.peerId, core);
    core.attachEdge(this.edgeFor(core.peerId));
    return core;
  }

  node(id: PeerId): NodeCore {
    const core = this.nodes.get(id);
    if (!core) throw new Error(`no live node ${id.slice(0, 8)}`);
    return core;
  }

  edgeFor(self: PeerId): EdgeCommands {
    return {
      send: (to, frame) => {
        if (!this.linked(self, to)) return false;
        const copy = frame.slice();
        setTimeout(() => this.nodes.get(to)?.onFrame(self, copy), this.options.delayMs);
        return true;
      },
      connect: (to) => {
        if (this.options.links === 'on-connect') setTimeout(() => this.link(self, to), 2);
      },
      disconnect: (to) => {
        if (this.options.links === 'on-connect') this.unlink(self, to, 'disconnected');
      },
    };
  }

  /** The node stops and every link it had closes (its peers see it go down). */
  kill(id: PeerId): void {
    this.nodes.get(id)?.stop();
    this.nodes.delete(id);
    for (const peer of [...(this.links.get(id) ?? [])]) this.unlink(id, peer, 'gone');
    this.links.delete(id);
  }

  stopAll(): void {
    for (const id of [...this.nodes.keys()]) this.kill(id);
  }

  private linked(a: PeerId, b: PeerId): boolean {
    if (this.options.links === 'mesh') return this.nodes.has(a) && this.nodes.has(b);
    return this.links.get(a)?.has(b) ?? false;
  }

  private link(a: PeerId, b: PeerId): void {
    const na = this.nodes.get(a), nb = this.nodes.get(b);
    if (!na) return;
    if (!nb) return na.onPeerDown(b, 'unreachable');
    if (this.links.get(a)?.has(b)) return;
    for (const [x, y] of [[a, b], [b, a]] as const) {
      if (!this.links.has(x)) this.links.set(x, new Set());
      this.links.get(x)!.add(y);
    }
    na.onPeerUp(b);
    nb.onPeerUp(a);
  }

  private unlink(a: PeerId, b: PeerId, why: string): void {
    this.links.get(a)?.delete(b);
    this.links.get(b)?.delete(a);
    this.nodes.get(a)?.onPeerDown(b, why);
    this.nodes.get(b)?.onPeerDown(a, why);
  }
}

const networks = new Set<CoreNetwork>();

/** Stops every node of every network the fixtures made. Call in afterEach. */
export function stopNetworks(): void {
  for (const net of networks) net.stopAll();
  networks.clear();
}

export async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type CoreSetup = Omit<NodeCoreOptions, 'identity' | 'cloud'>;

/**
 * One started node per setup, all linked to all, each bootstrapped with the whole list (frames after 0 ms).
 * Resolves to the cores in the order of the setups.
 */
export async function meshCloud(setups: readonly CoreSetup[]): Promise<NodeCore[]> {
  const net = new CoreNetwork({ links: 'mesh', delayMs: 0 });
  const cores: NodeCore[] = [];
  for (const setup of setups) cores.push(net.add(new NodeCore({ identity: await generateIdentity(), cloud: 'test', ...setup })));
  for (const a of cores) for (const b of cores) if (a !== b) a.onPeerUp(b.peerId);
  for (const core of cores) core.onBootstrap(cores.map((c) => c.peerId));
  for (const core of cores) core.start();
  return cores;
}

// ---- storage ----

export interface StorageCloud {
  readonly net: CoreNetwork;
  readonly ids: PeerId[];
  /** Each peer's chunk store and named-object records, kept across a restart. */
  readonly stores: Map<PeerId, MemoryChunkStore>;
  readonly records: Map<PeerId, MemoryRecordStore>;
  /** Starts a node again with the identity and chunk store it had, bootstrapped through `via`. */
  restart(id: PeerId, via: readonly PeerId[]): Promise<NodeCore>;
  /** A new node joins through `via` (added to `ids`). */
  join(via: readonly PeerId[]): Promise<PeerId>;
}

export interface StorageCloudOptions {
  readonly service?: Omit<StorageServiceOptions, 'openStore'>;
  /** What "formed" means: one ring with ≥ min(3, n-1) successors each (default), or the true first two successors. */
  readonly settle?: 'ring' | 'true-successors';
  /** Extra services each node runs beside storage. */
  readonly extraServices?: readonly ServiceFactory[];
}

/** n nodes running the storage service over an on-connect network; resolves once the ring has formed. */
export async function storageCloud(n: number, options: StorageCloudOptions = {}): Promise<StorageCloud> {
  const net = new CoreNetwork({ links: 'on-connect', delayMs: 1 });
  const stores = new Map<PeerId, MemoryChunkStore>();
  const records = new Map<PeerId, MemoryRecordStore>();
  const identities = new Map<PeerId, Identity>();
  const make = (identity: Identity): NodeCore => {
    const services = [storageService({ requestTimeoutMs: 3000, ...options.service, openStore: (self) => storeOf(stores, self), openRecords: (self) => recordsOf(records, self) }), ...(options.extraServices ?? [])];
    return net.add(new NodeCore({ identity, cloud: 'test', tickMs: 40, runner: () => null, services }));
  };
  const ids: PeerId[] = [];
  for (let i = 0; i < n; i++) {
    const identity = await generateIdentity();
    identities.set(identity.peerId, identity);
    make(identity);
    ids.push(identity.peerId);
  }
  for (const [i, id] of ids.entries()) {
    const core = net.node(id);
    core.start();
    core.onBootstrap(ids.slice(Math.max(0, i - 3), i));
    await new Promise((r) => setTimeout(r, 120));
  }
  const formed = options.settle === 'true-successors'
    ? () => oneRing(net, ids) && trueSuccessors(net, ids, 2)
    : () => oneRing(net, ids) && ids.every((id) => storageOf(net, id).successors.length >= Math.min(3, n - 1));
  await waitFor(formed, 20_000, 'ring formed');
  const restart = async (id: PeerId, via: readonly PeerId[]): Promise<NodeCore> => {
    const identity = identities.get(id);
    if (!identity) throw new Error(`unknown node ${id.slice(0, 8)}`);
    net.kill(id);
    const core = make(identity);
    core.start();
    core.onBootstrap(via);
    return core;
  };
  const join = async (via: readonly PeerId[]): Promise<PeerId> => {
    const identity = await generateIdentity();
    identities.set(identity.peerId, identity);
    const core = make(identity);
    ids.push(identity.peerId);
    core.start();
    core.onBootstrap(via);
    return identity.peerId;
  };
  return { net, ids, stores, records, restart, join };
}

function storeOf(stores: Map<PeerId, MemoryChunkStore>, self: PeerId): MemoryChunkStore {
  let store = stores.get(self);
  if (!store) stores.set(self, (store = new MemoryChunkStore({ quotaBytes: Infinity })));
  return store;
}

function recordsOf(records: Map<PeerId, MemoryRecordStore>, self: PeerId): MemoryRecordStore {
  let store = records.get(self);
  if (!store) records.set(self, (store = new MemoryRecordStore()));
  return store;
}

export function storageOf(net: CoreNetwork, id: PeerId): StorageSnapshot {
  return net.node(id).snapshot().services['storage'] as StorageSnapshot;
}

export const storageCmd = (net: CoreNetwork, id: PeerId, command: string, args: unknown): Promise<unknown> => net.node(id).command('storage', command, args);

/** Following first successors from the first of `ids` visits every one of them once. */
export function oneRing(net: CoreNetwork, ids: readonly PeerId[]): boolean {
  const live = ids.filter((id) => net.nodes.has(id));
  if (live.length === 0) return false;
  const seen = new Set<PeerId>();
  let at = live[0]!;
  for (let i = 0; i < live.length; i++) {
    seen.add(at);
    const next = storageOf(net, at).successors[0];
    if (!next || !net.nodes.has(next)) return false;
    at = next;
  }
  return at === live[0] && seen.size === live.length;
}

/** Every live node's first `k` successors are its true ones (replica sets are read from successor lists). */
export function trueSuccessors(net: CoreNetwork, ids: readonly PeerId[], k: number): boolean {
  const sorted = ids.filter((id) => net.nodes.has(id)).sort();
  return sorted.every((id, i) => {
    const want = Array.from({ length: k }, (_, j) => sorted[(i + j + 1) % sorted.length]!).filter((p) => p !== id);
    return storageOf(net, id).successors.slice(0, want.length).join() === want.join();
  });
}
