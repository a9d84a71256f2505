/**
 * The node: one composition of protocols, job service and bookkeeping, shared by the browser SharedWorker and
 * the Node peer. It owns the timer (protocols own none), speaks to the network only through `EdgeCommands`, and
 * hears from it through the `EdgeEvents` it implements.
 */
import type { PeerId } from '../core/ids.ts';
import { createRng } from '../core/rng.ts';
import { decodeFrame } from '../wire/frame.ts';
import { decodeEnvelope } from '../wire/envelope.ts';
import { decodeJobMessage, JOB_WIRE_VERSION } from '../wire/job.ts';
import type { Identity } from '../identity/identity.ts';
import { CONNECT_TIMEOUT_MS, EVICTED_REASON, type EdgeCommands, type EdgeEvents, type SignalingState } from '../net/types.ts';
import { ProtocolHost } from './protocol-host.ts';
import { JobService, type SandboxRunner } from './job-service.ts';
import { createGossipSlots, type GossipSlots } from './gossip-slots.ts';
import type { ConnectionInfo, JobRequest, LogEntry, NodeSnapshot } from './api.ts';
import type { NodeService, ServiceDeps, ServiceFactory } from './node-service.ts';
import { NODE_SERVICES } from './services.ts';
import { NepheleError } from '../core/errors.ts';

export interface NodeCoreOptions {
  readonly identity: Identity;
  readonly cloud: string;
  readonly now?: () => number;
  /** Gossip period, ms. */
  readonly tickMs?: number;
  readonly maxConcurrentTasks?: number;
  readonly runner: () => SandboxRunner | null;
  /** Capabilities beyond the spine; defaults to NODE_SERVICES. */
  readonly services?: readonly ServiceFactory[];
}

const MAX_LOG = 300;
const NOTIFY_MS = 200;

export class NodeCore implements EdgeEvents {
  readonly peerId: PeerId;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly host: ProtocolHost;
  private readonly gossip: GossipSlots;
  private readonly jobService: JobService;
  private readonly services: NodeService[];
  private readonly links = new Map<PeerId, { since: number; framesIn: number; framesOut: number }>();
  private readonly logEntries: LogEntry[] = [];
  private readonly listeners = new Set<(s: NodeSnapshot) => void>();
  private edge: EdgeCommands | null = null;
  private signaling: SignalingState = 'connecting';
  private timer: ReturnType<typeof setInterval> | null = null;
  private notifyQueued = false;
  private lastNotify = 0;
  private rejectedFrames = 0;
  private logSeq = 0;
  tabs = 0;
  hasConnectionHolder = false;

  constructor(private readonly options: NodeCoreOptions) {
    this.peerId = options.identity.peerId;
    this.now = options.now ?? (() => Date.now());
    this.startedAt = this.now();
    const seed = parseInt(this.peerId.slice(0, 8), 16) ^ (this.startedAt >>> 0);
    const rng = createRng(seed);
    const sendFrame = (to: PeerId, frame: Uint8Array): boolean => this.sendFrame(to, frame);
    this.host = new ProtocolHost({
      self: this.peerId, rng, now: this.now, sendFrame,
      connect: (to) => this.edge?.connect(to),
      log: (level, text) => this.log(level, text),
      // Longer than the edge's connect timeout, so a slow dial is not declared unreachable before it fails.
      pendingTimeoutMs: CONNECT_TIMEOUT_MS + 1_000,
    });
    this.gossip = createGossipSlots(this.peerId, options.tickMs ?? 1000, () => this.localValues());
    for (const slot of this.gossip.slots) this.host.add(slot);
    const deps: ServiceDeps = {
      self: this.peerId, rng, now: this.now, view: this.gossip.sampler, viewEntries: () => this.gossip.view(),
      linkedPeers: () => [...this.links.keys()],
      estimatedSize: () => this.gossip.estimatedSize(),
      averages: () => this.gossip.averages(),
      run: (protocol, fn) => this.host.run(protocol, fn),
      sendFrame,
      connect: (to) => this.edge?.connect(to),
      runner: options.runner,
      log: (level, text) => this.log(level, text),
      changed: () => this.scheduleNotify(),
      command: (service, command, args) => this.command(service, command, args),
      runningTasks: () => this.services.reduce((sum, service) => sum + (service.runningTasks?.() ?? 0), this.jobService.hosting().length),
    };
    this.services = (options.services ?? NODE_SERVICES).map((make) => make(deps));
    for (const service of this.services) for (const slot of service.slots ?? []) this.host.add(slot);
    this.jobService = new JobService({
      self: this.peerId, rng, now: this.now, sendFrame,
      linkedPeers: () => [...this.links.keys()],
      runner: options.runner,
      log: (level, text) => this.log(level, text),
      changed: () => this.scheduleNotify(),
      maxConcurrentTasks: options.maxConcurrentTasks ?? 2,
    });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 1000);
    this.log('info', `node ${this.peerId.slice(0, 8)} started in cloud "${this.options.cloud}"`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const service of this.services) service.stop?.();
  }

  /** A command from a tab to one of the node's services. */
  async command(service: string, command: string, args: unknown): Promise<unknown> {
    const target = this.services.find((s) => s.name === service);
    if (!target?.command) throw new NepheleError('E_UNKNOWN_SERVICE', `this node has no service "${service}" taking commands`);
    return target.command(command, args);
  }

  /** Attach the network edge (a new connection-holding tab, or the Node peer's own edge). Old links are gone. */
  attachEdge(edge: EdgeCommands | null): void {
    for (const peer of [...this.links.keys()]) this.onPeerDown(peer, 'connection holder changed');
    this.edge = edge;
    this.hasConnectionHolder = edge !== null;
    this.scheduleNotify();
  }

  submitJob(request: JobRequest): string {
    return this.jobService.submit(request);
  }

  subscribe(listener: (s: NodeSnapshot) => void): () => void {
    this.listeners.add(listener);
    listener(this.snapshot());
    return () => this.listeners.delete(listener);
  }

  // EdgeEvents
  onPeerUp(peer: PeerId): void {
    this.links.set(peer, { since: this.now(), framesIn: 0, framesOut: 0 });
    this.log('info', `link up: ${peer.slice(0, 8)}`);
    this.host.peerUp(peer);
    for (const service of this.services) service.peerUp?.(peer);
    this.scheduleNotify();
  }

  onPeerDown(peer: PeerId, reason: string): void {
    const had = this.links.delete(peer);
    if (had) this.log('info', `link down: ${peer.slice(0, 8)} (${reason})`);
    // A link closed only to make room under the cap is not a dead peer: the protocols keep it (view entries, ring
    // neighbours), and their next message to it reopens a link on demand.
    if (reason !== EVICTED_REASON) this.host.peerDown(peer);
    this.jobService.peerDown(peer);
    for (const service of this.services) service.peerDown?.(peer);
    this.scheduleNotify();
  }

  onFrame(from: PeerId, bytes: Uint8Array): void {
    const link = this.links.get(from);
    if (link) link.framesIn++;
    const frame = decodeFrame(bytes);
    if (!frame.ok) return this.drop(from, `${frame.code}: ${frame.reason}`);
    const envelope = decodeEnvelope(frame.value.header);
    if (!envelope.ok) return this.drop(from, `${envelope.code}: ${envelope.reason}`);
    const { p, v, m } = envelope.value;
    if (p === 'job') {
      if (v !== JOB_WIRE_VERSION) return this.drop(from, `E_BAD_VERSION: job v${v}`);
      const msg = decodeJobMessage(m);
      if (!msg.ok) return this.drop(from, `${msg.code}: ${msg.reason}`);
      this.jobService.onMessage(from, msg.value, frame.value.body);
      return;
    }
    const owner = this.services.find((s) => s.frameProtocols?.includes(p));
    if (owner?.onFrame) {
      try {
        owner.onFrame(from, envelope.value, frame.value.body);
      } catch (err) {
        this.drop(from, `E_SERVICE_FAILED: ${owner.name} could not handle a "${p}" frame: ${err instanceof Error ? err.message : String(err)}`);
      }
      return;
    }
    if (!this.host.deliver(from, p, v, m)) this.drop(from, `E_UNKNOWN_PROTOCOL: "${p}"`);
  }

  onBootstrap(peers: readonly PeerId[]): void {
    this.log('info', `bootstrap: ${peers.length} peer(s) from the signaling server`);
    this.host.discovered(peers);
    this.scheduleNotify();
  }

  onSignalingState(state: SignalingState): void {
    if (state === this.signaling) return;
    this.signaling = state;
    this.log(state === 'refused' ? 'warn' : 'info', `signaling: ${state}`);
    this.scheduleNotify();
  }

  onLog(level: 'info' | 'warn', text: string): void {
    this.log(level, text);
  }

  snapshot(): NodeSnapshot {
    const connections: ConnectionInfo[] = [...this.links].map(([peer, l]) => ({ peer, ...l }));
    return {
      peerId: this.peerId, cloud: this.options.cloud, startedAt: this.startedAt, now: this.now(),
      signaling: this.signaling, hasConnectionHolder: this.hasConnectionHolder, tabs: this.tabs,
      connections, view: this.gossip.view(), estimatedSize: this.gossip.estimatedSize(),
      jobs: this.jobService.jobs(), hosting: this.jobService.hosting(), log: this.logEntries.slice(-MAX_LOG).reverse(),
      rejectedMessages: this.rejectedFrames + this.host.rejected,
      services: Object.fromEntries(this.services.map((service) => [service.name, service.snapshot()])),
    };
  }

  private tick(): void {
    this.host.tick();
    this.jobService.tick();
    for (const service of this.services) service.tick?.();
    this.scheduleNotify();
  }

  /** This node's contributions to cloud-wide averages (aggregation), gathered from its services. */
  private localValues(): Map<string, number> {
    const values = new Map<string, number>();
    for (const service of this.services ?? []) for (const [k, v] of Object.entries(service.localValues?.() ?? {})) values.set(k, v);
    return values;
  }

  private sendFrame(to: PeerId, frame: Uint8Array): boolean {
    if (!this.edge || !this.links.has(to)) return false;
    const sent = this.edge.send(to, frame);
    // The edge may drop the link synchronously while sending (e.g. a closed channel), so look it up again.
    const link = this.links.get(to);
    if (sent && link) link.framesOut++;
    return sent;
  }

  private drop(from: PeerId, why: string): void {
    this.rejectedFrames++;
    this.log('warn', `dropped frame from ${from.slice(0, 8)}: ${why}`);
  }

  private log(level: 'info' | 'warn', text: string): void {
    this.logEntries.push({ seq: ++this.logSeq, at: this.now(), level, text });
    if (this.logEntries.length > MAX_LOG * 2) this.logEntries.splice(0, this.logEntries.length - MAX_LOG);
    this.scheduleNotify();
  }

  /** Snapshots go to every tab through comlink: coalesce bursts (frames arrive fast) to one per NOTIFY_MS. */
  private scheduleNotify(): void {
    if (this.notifyQueued || this.listeners.size === 0) return;
    this.notifyQueued = true;
    const wait = Math.max(0, this.lastNotify + NOTIFY_MS - this.now());
    setTimeout(() => {
      this.notifyQueued = false;
      this.lastNotify = this.now();
      const snap = this.snapshot();
      for (const listener of this.listeners) listener(snap);
    }, wait);
  }
}
