/**
 * The P2PCS cloud service in the live node (Babaoglu et al., "Design and Implementation of a P2P Cloud System":
 * node attributes, aggregated cloud totals, ordered slicing, slices allocated on request and bound into T-Man
 * rings, site clustering). Hosts one Sliver (protocol 'sliver') ranking cpuScore and memoryMB in the same exchanges,
 * backing off to a push every SLIVER_PUSH_INTERVAL_CAP ticks while the estimates stand still, T-Man over the slice
 * this node belongs to, and its own 'cloud' protocol: attribute directory gossip,
 * claims (cloud-claims.ts), commits, releases and slice record syncs (cloud-slices.ts).
 *
 * Totals are aggregation averages × estimated size: load is the compute service's `load` (running tasks /
 * limit); free cores/RAM/storage are this node's attributes while it is held by no slice, else 0 (allocation is
 * what makes a node busy here), and free cores also leave out one core per compute task running here
 * (`ServiceDeps.runningTasks`); `cloud.slices` is 1/size on each slice member, so its sum counts live slices.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import type { NodeAttributes } from '../../protocols/attributes.ts';
import { Sliver } from '../../protocols/slicing/sliver.ts';
import { TMan } from '../../protocols/tman/tman.ts';
import { decodeSliverMessage, SLIVER_WIRE_VERSION } from '../../wire/slicing.ts';
import { decodeTManMessage, TMAN_WIRE_VERSION } from '../../wire/tman.ts';
import type { NodeService, ServiceDeps, ServiceFactory } from '../node-service.ts';
import type { ProtocolSlot } from '../protocol-host.ts';
import { ClaimTable } from './cloud-claims.ts';
import { Directory, siteOf } from './cloud-directory.ts';
import { measureCpuScore, measurePlatform, DEFAULT_MEMORY_MB, DEFAULT_STORAGE_MB } from './cloud-measure.ts';
import { CLOUD_PROTOCOL, CLOUD_WIRE_VERSION, decodeCloudMessage, type CloudMessage } from './cloud-messages.ts';
import { SliceBook, membersOf, sliceInfo } from './cloud-slices.ts';
import { CloudRequests } from './cloud-requests.ts';
import { CloudErrors, membershipArgs, parseArgs } from './cloud-commands.ts';
import { NepheleError } from '../../core/errors.ts';
import { CLOUD_HISTORY_LENGTH, type CloudAttributes, type CloudEdge, type CloudHistoryPoint, type CloudSnapshot } from './cloud-types.ts';


export interface CloudServiceOptions {
  /** Site label at start (the portal sends `setSite` from `?site=`). */
  readonly site?: string;
  /** Skip platform measurement (tests): these attributes are used as measured. */
  readonly attributes?: Partial<Omit<NodeAttributes, 'uptimeS'>>;
}

const DIRECTORY_PER_MESSAGE = 16;
const REFRESH_MS = 30_000;
const CPU_REFRESH_MS = 300_000;
const HISTORY_EVERY_MS = 1000;
/**
 * Most ticks between Sliver pushes while both rank estimates stand still (Sliver's maxPushIntervalCycles; well
 * below its 100-cycle memory). Pushing every tick, the two rankings were 8 of an idle node's 21 frames per tick.
 */
export const SLIVER_PUSH_INTERVAL_CAP = 8;

export function cloudService(options: CloudServiceOptions = {}): ServiceFactory {
  return (deps) => new CloudService(deps, options);
}

export class CloudService implements NodeService, Protocol<CloudMessage> {
  readonly name = CLOUD_PROTOCOL;
  readonly slots: readonly ProtocolSlot<any>[];
  readonly claims = new ClaimTable();
  readonly directory: Directory;
  readonly book: SliceBook;
  private readonly requests: CloudRequests;
  private readonly sliver: Sliver;
  private readonly tman: TMan;
  private readonly startedAt: number;
  private measured: Omit<CloudAttributes, 'uptimeS'>;
  private lastRefresh = -Infinity;
  private lastCpu = -Infinity;
  private lastHistory = -Infinity;
  private readonly history: CloudHistoryPoint[] = [];
  private cycle = 0;

  constructor(private readonly deps: ServiceDeps, options: CloudServiceOptions) {
    this.startedAt = deps.now();
    this.directory = new Directory(deps.self);
    this.book = new SliceBook(deps.self);
    const a = options.attributes ?? {};
    this.measured = {
      cores: a.cores ?? 1, memoryMB: a.memoryMB ?? DEFAULT_MEMORY_MB, gpuMemoryMB: a.gpuMemoryMB ?? null,
      cpuScore: a.cpuScore ?? 0, storageMB: a.storageMB ?? DEFAULT_STORAGE_MB, site: options.site ?? a.site ?? '',
      cpuScoreMethod: 'js', memorySource: a.memoryMB === undefined ? 'default' : 'measured',
    };
    this.sliver = new Sliver({
      view: deps.view, attribute: 'cpuScore', value: () => this.measured.cpuScore,
      moreAttributes: [{ attribute: 'memoryMB', value: () => this.measured.memoryMB }],
      maxPushIntervalCycles: SLIVER_PUSH_INTERVAL_CAP,
    });
    this.tman = new TMan({ view: deps.view, slice: () => this.claims.memberOf() });
    this.requests = new CloudRequests(deps, this);
    this.slots = [
      { protocol: this, version: CLOUD_WIRE_VERSION, decode: decodeCloudMessage },
      { protocol: this.sliver, version: SLIVER_WIRE_VERSION, decode: decodeSliverMessage },
      { protocol: this.tman, version: TMAN_WIRE_VERSION, decode: decodeTManMessage },
    ];
    if (options.attributes) this.lastRefresh = this.lastCpu = Infinity;
  }

  currentCycle(): number {
    return this.cycle;
  }

  attributes(): CloudAttributes {
    return { ...this.measured, uptimeS: Math.max(0, Math.round((this.deps.now() - this.startedAt) / 1000)) };
  }

  nodeAttributes(): NodeAttributes {
    const { cpuScoreMethod: _m, memorySource: _s, ...attrs } = this.attributes();
    return attrs;
  }

  setSite(site: string): void {
    this.measured = { ...this.measured, site };
    this.deps.changed();
  }

  // Protocol<CloudMessage> ('cloud')
  onTick(ctx: ProtocolContext): Effect<CloudMessage>[] {
    this.cycle++;
    this.refresh();
    this.directory.tick();
    const lapsed = this.claims.expire(this.cycle);
    if (lapsed?.committed) {
      this.deps.log('info', `cloud: membership of slice ${lapsed.slice} lapsed (no member or owner heard)`);
      if (this.book.get(lapsed.slice)?.owner !== ctx.self) this.book.forget(lapsed.slice);
    }
    this.book.tick(this.claims.memberOf());
    const effects: Effect<CloudMessage>[] = [...this.requests.tick(ctx, this.cycle)];
    const [partner] = this.deps.view.sample(1, ctx.rng);
    if (partner !== undefined) effects.push({ kind: 'send', to: partner, msg: { t: 'dir-push', entries: this.outgoingDirectory() } });
    effects.push(...this.syncs(ctx));
    return effects;
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: CloudMessage): Effect<CloudMessage>[] {
    switch (msg.t) {
      case 'dir-push':
      case 'dir-pull': {
        this.directory.merge(from, msg.entries);
        return msg.t === 'dir-push' ? [{ kind: 'send', to: from, msg: { t: 'dir-pull', entries: this.outgoingDirectory() } }] : [];
      }
      case 'claim': {
        const answer = this.claims.claim(msg.slice, from, this.cycle);
        this.deps.changed();
        return [{ kind: 'send', to: from, msg: answer.granted ? { t: 'claim-ok', id: msg.id, slice: msg.slice } : { t: 'claim-no', id: msg.id, slice: msg.slice, held: answer.held } }];
      }
      case 'claim-ok':
      case 'claim-no':
        return this.requests.answer(ctx, from, msg);
      case 'commit': {
        if (!this.claims.commit(msg.record.name, msg.record.owner, this.cycle)) return [];
        this.book.forget(msg.record.name);
        this.book.merge(from, msg.record);
        this.book.addMembers(msg.record.name, [ctx.self]);
        this.deps.log('info', `cloud: joined slice ${msg.record.name} of ${msg.record.owner.slice(0, 8)}`);
        this.deps.changed();
        return [];
      }
      case 'release': {
        const record = this.book.get(msg.slice);
        if (record && record.owner !== from && !record.members.has(from)) return [];
        if (this.claims.release(msg.slice)) {
          this.deps.log('info', `cloud: released from slice ${msg.slice}`);
          if (record && record.owner !== ctx.self) this.book.forget(msg.slice);
          this.deps.changed();
        }
        return [];
      }
      case 'sync':
        return this.onSync(ctx, from, msg.record);
    }
  }

  onPeerDown(_ctx: ProtocolContext, peer: PeerId): Effect<CloudMessage>[] {
    this.directory.down(peer);
    this.book.down(peer);
    this.requests.lost(peer);
    return [];
  }

  tick(): void {
    const now = this.deps.now();
    if (now - this.lastHistory < HISTORY_EVERY_MS) return;
    this.lastHistory = now;
    const t = this.totals();
    this.history.push({ t: now, size: t.peers, avgLoad: t.avgLoad, liveSlices: t.liveSlices });
    if (this.history.length > CLOUD_HISTORY_LENGTH) this.history.splice(0, this.history.length - CLOUD_HISTORY_LENGTH);
  }

  localValues(): Readonly<Record<string, number>> {
    const a = this.measured;
    const free = this.claims.current() === null;
    const mine = this.claims.memberOf();
    const size = mine ? this.book.get(mine)?.members.size ?? 1 : 0;
    const running = Math.max(0, this.deps.runningTasks());
    return {
      'cloud.free-cores': free ? Math.max(0, a.cores - running) : 0,
      'cloud.free-memory': free ? a.memoryMB : 0,
      'cloud.free-storage': free ? a.storageMB : 0,
      'cloud.slices': size > 0 ? 1 / size : 0,
    };
  }

  async command(command: string, args: unknown): Promise<unknown> {
    if (command === 'membership') return this.membership(parseArgs(membershipArgs, command, args).slice);
    return this.requests.command(command, args);
  }

  /**
   * The `membership` command, for other services of this node (compute runs jobs on slices). Without a slice:
   * the slice this node is a member of, or null. With one: its members as known here — from its record when this
   * node owns or belongs to it, else from the gossiped directory (`owner` null then); E_UNKNOWN_SLICE when no
   * member of it is known.
   */
  membership(slice?: string): { slice: string; owner: PeerId | null; members: PeerId[] } | null {
    const name = slice ?? this.claims.memberOf();
    if (name === null) return null;
    const record = this.book.get(name);
    if (record) return { slice: name, owner: record.owner, members: membersOf(record) };
    const members = this.directory.fresh().filter(([, e]) => e.slice === name).map(([peer]) => peer);
    if (this.claims.memberOf() === name) members.push(this.deps.self);
    if (members.length === 0) throw new NepheleError(CloudErrors.UNKNOWN_SLICE, `no slice named ${name} is known here`);
    return { slice: name, owner: null, members: members.sort() };
  }

  snapshot(): CloudSnapshot {
    const self = this.deps.self;
    const attributes = this.attributes();
    const site = siteOf(self, attributes, this.directory, this.msPerCycle() / 1000);
    const mine = this.claims.memberOf();
    const record = mine ? this.book.get(mine) : undefined;
    return {
      self, attributes, totals: this.totals(),
      ranks: { cpuScore: this.sliver.rankEstimate('cpuScore'), memoryMB: this.sliver.rankEstimate('memoryMB') },
      membership: record ? {
        slice: record.name, owner: record.owner, members: membersOf(record), ring: this.tman.ringNeighbours(),
        leaseUntil: this.leaseUntilMs(),
      } : null,
      slices: this.book.all().map(sliceInfo),
      site: { label: attributes.site, head: site.head, isHead: site.head === self, members: site.members },
      history: this.history.slice(),
      edges: this.edges(),
      knownPeers: this.directory.fresh().length,
    };
  }

  /** When this node's membership lease lapses unless renewed, in ms (cycles converted at the observed tick rate). */
  private leaseUntilMs(): number {
    const now = this.deps.now();
    const until = this.claims.current()?.until ?? this.cycle;
    return Math.round(now + Math.max(0, until - this.cycle) * this.msPerCycle());
  }

  /** The observed tick period (1 s until the first tick). */
  private msPerCycle(): number {
    return this.cycle > 0 ? (this.deps.now() - this.startedAt) / this.cycle : 1000;
  }

  /** T-Man's ring neighbours of this node in its slice. */
  ring(): { pred: PeerId | null; succ: PeerId | null } {
    return this.tman.ringNeighbours();
  }

  totals(): CloudSnapshot['totals'] {
    const size = this.deps.estimatedSize();
    const avg = this.deps.averages();
    const total = (key: string): number | null => {
      const v = avg?.get(key);
      return v === undefined || size === null ? null : v * size;
    };
    const load = avg?.get('load');
    const slices = total('cloud.slices');
    return {
      peers: size, avgLoad: load ?? null, totalLoad: total('load'), freeCores: total('cloud.free-cores'),
      freeMemoryMB: total('cloud.free-memory'), freeStorageMB: total('cloud.free-storage'),
      liveSlices: slices === null ? null : Math.round(slices * 10) / 10,
    };
  }

  private outgoingDirectory() {
    return this.directory.outgoing({ attrs: this.nodeAttributes(), slice: this.claims.current()?.slice ?? null }, DIRECTORY_PER_MESSAGE);
  }

  /** Members gossip their record to their ring neighbours and one random member; owners to one random member. */
  private syncs(ctx: ProtocolContext): Effect<CloudMessage>[] {
    const effects: Effect<CloudMessage>[] = [];
    const mine = this.claims.memberOf();
    for (const record of this.book.all()) {
      const members = membersOf(record).filter((p) => p !== ctx.self);
      const targets = new Set<PeerId>();
      const random = ctx.rng.pick(members);
      if (random !== undefined) targets.add(random);
      if (record.name === mine) {
        const ring = this.tman.ringNeighbours();
        for (const p of [ring.pred, ring.succ]) if (p !== null && record.members.has(p)) targets.add(p);
        const lowest = membersOf(record)[0];
        if (lowest === ctx.self && !record.members.has(record.owner)) targets.add(record.owner);
      } else if (record.owner !== ctx.self) {
        continue; // a copy we no longer belong to (lapsed or released): it ages out by itself
      }
      const wire = this.book.toWire(record);
      for (const to of targets) if (to !== ctx.self) effects.push({ kind: 'send', to, msg: { t: 'sync', record: wire } });
    }
    return effects;
  }

  private onSync(ctx: ProtocolContext, from: PeerId, wire: Extract<CloudMessage, { t: 'sync' }>['record']): Effect<CloudMessage>[] {
    const mine = this.claims.memberOf();
    const record = this.book.get(wire.name);
    const owned = record?.owner === ctx.self;
    if (wire.name !== mine && !owned) return [];
    if (!this.book.merge(from, wire)) return [];
    if (wire.name === mine && wire.removed.includes(ctx.self)) {
      this.claims.release(wire.name);
      this.book.forget(wire.name);
      this.deps.log('info', `cloud: terminated from slice ${wire.name}`);
    } else if (wire.name === mine) {
      this.claims.renew(wire.name, this.cycle);
    }
    this.deps.changed();
    return [];
  }

  private edges(): CloudEdge[] {
    const self = this.deps.self;
    const cyclon = this.deps.viewEntries();
    return [
      ...cyclon.map((e) => ({ from: self, to: e.peer, kind: 'cyclon' as const })),
      ...this.tman.view().map((e) => ({ from: self, to: e.peer, kind: 'tman' as const })),
    ];
  }

  /** Re-measures the platform every REFRESH_MS and the CPU every CPU_REFRESH_MS (skipped with fixed attributes). */
  private refresh(): void {
    const now = this.deps.now();
    if (now - this.lastCpu >= CPU_REFRESH_MS) {
      this.lastCpu = now;
      const cpu = measureCpuScore();
      this.measured = { ...this.measured, cpuScore: cpu.score, cpuScoreMethod: cpu.method };
    }
    if (now - this.lastRefresh < REFRESH_MS) return;
    this.lastRefresh = now;
    void measurePlatform().then((p) => {
      this.measured = { ...this.measured, cores: p.cores, memoryMB: p.memoryMB, memorySource: p.memorySource, storageMB: p.storageMB };
      this.deps.changed();
    }, (err: unknown) => this.deps.log('warn', `cloud: platform measurement failed: ${String(err)}`));
  }
}
