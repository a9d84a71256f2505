/**
 * The cloud service's commands (P2PCS instance API) and the allocations they run. runInstances / addInstances
 * claim free matching peers one by one (cloud-claims.ts Allocation; this node claims itself locally) and, once n
 * are granted, commit the slice record to every member; when fewer than n could be claimed the granted claims
 * are released and the command fails with E_CLAIMS_FAILED — no retry (the caller may retry; state is clean).
 * Late grants (after a claim timed out or the request ended) are released at once.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, ProtocolContext } from '../../core/protocol.ts';
import { NepheleError } from '../../core/errors.ts';
import type { NodeAttributes } from '../../protocols/attributes.ts';
import type { SliceQuery } from '../../protocols/slicing/slice-query.ts';
import type { ServiceDeps } from '../node-service.ts';
import { Allocation, type ClaimTable } from './cloud-claims.ts';
import { chooseCandidates, type KnownPeer } from './cloud-candidates.ts';
import { addArgs, CloudErrors, parseArgs, parseQuery, runArgs, siteArgs, sliceArgs, terminateArgs } from './cloud-commands.ts';
import type { Directory } from './cloud-directory.ts';
import type { CloudMessage } from './cloud-messages.ts';
import { membersOf, sliceInfo as info, type SliceBook, type SliceRecord } from './cloud-slices.ts';
import type { CloudAttributes, CloudDescribeResult } from './cloud-types.ts';

/** What the requests need of the service. */
export interface CloudHost {
  readonly claims: ClaimTable;
  readonly directory: Directory;
  readonly book: SliceBook;
  currentCycle(): number;
  nodeAttributes(): NodeAttributes;
  attributes(): CloudAttributes;
  setSite(site: string): void;
  ring(): { pred: PeerId | null; succ: PeerId | null };
}

interface Running {
  readonly id: number;
  readonly slice: string;
  readonly allocation: Allocation;
  readonly finish: (members: readonly PeerId[] | null, why: string) => void;
}

export class CloudRequests {
  private readonly running = new Map<number, Running>();
  private nextId = 1;

  constructor(private readonly deps: ServiceDeps, private readonly host: CloudHost) {}

  async command(command: string, args: unknown): Promise<unknown> {
    switch (command) {
      case 'runInstances': {
        const a = parseArgs(runArgs, command, args);
        const query = parseQuery(a.query);
        if (this.host.book.get(a.slice)) throw new NepheleError(CloudErrors.SLICE_EXISTS, `a slice named ${a.slice} is already known here`);
        const members = await this.allocate(a.slice, query, a.n, []);
        const record = this.host.book.create(a.slice, this.deps.self, query, members);
        this.commit(record, members);
        return info(record);
      }
      case 'addInstances': {
        const a = parseArgs(addArgs, command, args);
        const record = this.record(a.slice);
        const added = await this.allocate(a.slice, record.query, a.n, membersOf(record));
        this.host.book.addMembers(a.slice, added);
        this.commit(record, added);
        return info(record);
      }
      case 'terminateInstances': {
        const a = parseArgs(terminateArgs, command, args);
        const record = this.record(a.slice);
        const strangers = a.peers.filter((p) => !record.members.has(p));
        if (strangers.length > 0) throw new NepheleError(CloudErrors.NOT_MEMBER, `not members of ${a.slice}: ${strangers.map((p) => p.slice(0, 8)).join(', ')}`);
        this.host.book.removeMembers(a.slice, a.peers);
        this.send(a.peers, { t: 'release', slice: a.slice });
        this.send(membersOf(record), { t: 'sync', record: this.host.book.toWire(record) });
        return info(record);
      }
      case 'describeInstances': {
        const record = this.record(parseArgs(sliceArgs, command, args).slice);
        return this.describe(record);
      }
      case 'releaseSlice': {
        const { slice } = parseArgs(sliceArgs, command, args);
        const record = this.record(slice);
        const members = membersOf(record);
        this.send(members, { t: 'release', slice });
        this.host.book.forget(slice);
        this.deps.changed();
        return { released: members.length };
      }
      case 'setSite': {
        this.host.setSite(parseArgs(siteArgs, command, args).site);
        return this.host.attributes();
      }
      default:
        throw new NepheleError(CloudErrors.UNKNOWN_COMMAND, `the cloud service has no command "${command}"`);
    }
  }

  /** Per tick: gives up on unanswered claims, sends the next ones, settles finished allocations. */
  tick(ctx: ProtocolContext, cycle: number): Effect<CloudMessage>[] {
    const effects: Effect<CloudMessage>[] = [];
    for (const r of [...this.running.values()]) {
      r.allocation.expire(cycle);
      effects.push(...this.advance(ctx, r));
    }
    return effects;
  }

  answer(ctx: ProtocolContext, from: PeerId, msg: Extract<CloudMessage, { t: 'claim-ok' | 'claim-no' }>): Effect<CloudMessage>[] {
    const r = this.running.get(msg.id);
    const taken = r !== undefined && r.slice === msg.slice && r.allocation.answer(from, msg.t === 'claim-ok');
    if (!taken) {
      // A grant nobody waits for any more: give it back, unless that peer really is in the slice.
      const member = this.host.book.get(msg.slice)?.members.has(from) ?? false;
      return msg.t === 'claim-ok' && !member ? [{ kind: 'send', to: from, msg: { t: 'release', slice: msg.slice } }] : [];
    }
    return this.advance(ctx, r);
  }

  lost(peer: PeerId): void {
    for (const r of this.running.values()) r.allocation.lost(peer);
  }

  private allocate(slice: string, query: SliceQuery, n: number | undefined, exclude: readonly PeerId[]): Promise<PeerId[]> {
    const known: KnownPeer[] = this.host.directory.fresh().map(([peer, e]) => ({ peer, attrs: e.attrs, slice: e.slice }));
    known.push({ peer: this.deps.self, attrs: this.host.nodeAttributes(), slice: this.host.claims.current()?.slice ?? null });
    const choice = chooseCandidates(query, known.filter((k) => !exclude.includes(k.peer)), n, this.deps.estimatedSize());
    if (choice.free.length < choice.need) {
      return Promise.reject(new NepheleError(CloudErrors.IMPOSSIBLE,
        `needs ${choice.need} free matching peers, only ${choice.free.length} exist (${choice.eligible} match the query, ${known.length} peers known)`));
    }
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const allocation = new Allocation({ candidates: choice.free, need: choice.need });
      this.running.set(id, {
        id, slice, allocation,
        finish: (members, why) => (members ? resolve([...members]) : reject(new NepheleError(CloudErrors.CLAIMS_FAILED, why))),
      });
      this.deps.run<CloudMessage>('cloud', (ctx) => this.advance(ctx, this.running.get(id)!));
    });
  }

  /** Sends the next claims (claiming this node locally) and settles the allocation when it is over. */
  private advance(ctx: ProtocolContext, r: Running): Effect<CloudMessage>[] {
    const effects: Effect<CloudMessage>[] = [];
    for (;;) {
      const next = r.allocation.next(this.host.currentCycle());
      if (next.length === 0) break;
      for (const peer of next) {
        if (peer === ctx.self) r.allocation.answer(peer, this.host.claims.claim(r.slice, ctx.self, this.host.currentCycle()).granted);
        else effects.push({ kind: 'send', to: peer, msg: { t: 'claim', id: r.id, slice: r.slice } });
      }
    }
    const status = r.allocation.status();
    if (status === 'running') return effects;
    this.running.delete(r.id);
    const got = r.allocation.members();
    if (status === 'done') {
      for (const p of got) this.host.directory.markSlice(p, r.slice);
      r.finish(got, '');
    } else {
      for (const p of got) {
        if (p === ctx.self) this.host.claims.release(r.slice);
        else effects.push({ kind: 'send', to: p, msg: { t: 'release', slice: r.slice } });
      }
      r.finish(null, `claimed only ${got.length} of ${r.allocation.need} peers: ${r.allocation.refused.length} refused (held by other slices), ` +
        `${r.allocation.timedOut.length} did not answer; the ${got.length} claimed were released`);
    }
    return effects;
  }

  private commit(record: SliceRecord, peers: readonly PeerId[]): void {
    const wire = this.host.book.toWire(record);
    for (const p of peers) {
      if (p === this.deps.self) this.host.claims.commit(record.name, record.owner, this.host.currentCycle());
    }
    this.send(peers, { t: 'commit', record: wire });
    this.send(membersOf(record).filter((p) => !peers.includes(p)), { t: 'sync', record: wire });
    this.deps.log('info', `cloud: slice ${record.name} now has ${record.members.size} member(s)`);
    this.deps.changed();
  }

  private send(peers: readonly PeerId[], msg: CloudMessage): void {
    const others = peers.filter((p) => p !== this.deps.self);
    if (others.length > 0) this.deps.run<CloudMessage>('cloud', () => others.map((to) => ({ kind: 'send', to, msg })));
  }

  private record(slice: string): SliceRecord {
    const record = this.host.book.get(slice);
    if (!record) throw new NepheleError(CloudErrors.UNKNOWN_SLICE, `no slice named ${slice} is known here`);
    return record;
  }

  private describe(record: SliceRecord): CloudDescribeResult {
    const members = membersOf(record);
    return {
      slice: info(record),
      instances: members.map((peer) => {
        const attrs = peer === this.deps.self ? this.host.attributes() : this.host.directory.get(peer)?.attrs;
        return {
          peer,
          ring: peer === this.deps.self && this.host.claims.memberOf() === record.name ? this.host.ring() : idealNeighbours(peer, members),
          attributes: attrs ?? null,
        };
      }),
    };
  }
}

function idealNeighbours(peer: PeerId, members: readonly PeerId[]): { pred: PeerId | null; succ: PeerId | null } {
  const i = members.indexOf(peer);
  if (members.length < 2 || i < 0) return { pred: null, succ: null };
  return { pred: members[(i - 1 + members.length) % members.length]!, succ: members[(i + 1) % members.length]! };
}
