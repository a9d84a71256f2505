/**
 * Slice records (P2PCS: a slice is a named set of nodes allocated to one user's request), held by every member
 * and by the owner, so a slice outlives the node that created it. Membership is soft state: each member has an
 * age in cycles since it last spoke for itself; members gossip their record (`sync`) and merging keeps the
 * youngest age, plus one per hop. A member nobody hears from for `memberTtl` cycles is dropped everywhere —
 * that is its lease expiring. Removed members (terminated, released) are remembered so stale copies cannot
 * re-add them.
 */
import type { PeerId } from '../../core/ids.ts';
import type { SliceQuery } from '../../protocols/slicing/slice-query.ts';
import type { SliceRecordWire } from './cloud-messages.ts';
import type { CloudSliceInfo } from './cloud-types.ts';

export interface SliceRecord {
  readonly name: string;
  readonly owner: PeerId;
  readonly query: SliceQuery;
  /** member → age in cycles. */
  readonly members: Map<PeerId, number>;
  readonly removed: Set<PeerId>;
}

/** At most this many removed members are remembered per slice. */
const MAX_REMOVED = 64;

export class SliceBook {
  private readonly records = new Map<string, SliceRecord>();
  /** Peers reported unreachable: relayed copies may not re-add them for `memberTtl` cycles (first-hand may). */
  private readonly tombstones = new Map<PeerId, number>();
  private cycle = 0;

  constructor(
    private readonly self: PeerId,
    readonly memberTtl = 15,
  ) {}

  get(name: string): SliceRecord | undefined {
    return this.records.get(name);
  }

  all(): SliceRecord[] {
    return [...this.records.values()];
  }

  create(name: string, owner: PeerId, query: SliceQuery, members: readonly PeerId[]): SliceRecord {
    const record: SliceRecord = { name, owner, query, members: new Map(members.map((p) => [p, 0])), removed: new Set() };
    this.records.set(name, record);
    return record;
  }

  /** Ages every member by one cycle (this node stays at 0 while `selfMemberOf` is that slice); drops the silent. */
  tick(selfMemberOf: string | null): void {
    this.cycle++;
    for (const [peer, until] of this.tombstones) if (until < this.cycle) this.tombstones.delete(peer);
    for (const record of this.records.values()) {
      for (const [peer, age] of record.members) {
        if (peer === this.self && record.name === selfMemberOf) record.members.set(peer, 0);
        else if (age + 1 > this.memberTtl) record.members.delete(peer);
        else record.members.set(peer, age + 1);
      }
    }
  }

  /** Merges a copy received from `from`. Returns false when the copy names a different owner (a name clash). */
  merge(from: PeerId, wire: SliceRecordWire): boolean {
    this.tombstones.delete(from);
    let record = this.records.get(wire.name);
    if (record && record.owner !== wire.owner) return false;
    record ??= this.create(wire.name, wire.owner, wire.query, []);
    for (const peer of wire.removed) this.remove(record, peer);
    for (const [peer, sentAge] of wire.members) {
      if (record.removed.has(peer) || (peer !== from && this.tombstones.has(peer))) continue;
      const age = peer === from ? 0 : sentAge + 1;
      if (age > this.memberTtl) continue;
      const known = record.members.get(peer);
      if (known === undefined || age < known) record.members.set(peer, age);
    }
    return true;
  }

  addMembers(name: string, peers: readonly PeerId[]): void {
    const record = this.records.get(name);
    if (!record) return;
    for (const peer of peers) {
      record.removed.delete(peer);
      record.members.set(peer, 0);
    }
  }

  removeMembers(name: string, peers: readonly PeerId[]): void {
    const record = this.records.get(name);
    if (record) for (const peer of peers) this.remove(record, peer);
  }

  /** Drops a peer that is known to be unreachable from every record (it will be re-added if it speaks again). */
  down(peer: PeerId): void {
    for (const record of this.records.values()) record.members.delete(peer);
    this.tombstones.set(peer, this.cycle + this.memberTtl);
  }

  forget(name: string): void {
    this.records.delete(name);
  }

  toWire(record: SliceRecord): SliceRecordWire {
    return {
      name: record.name, owner: record.owner, query: record.query,
      members: [...record.members].map(([peer, age]) => [peer, age] as [string, number]),
      removed: [...record.removed],
    };
  }

  private remove(record: SliceRecord, peer: PeerId): void {
    record.members.delete(peer);
    record.removed.add(peer);
    if (record.removed.size > MAX_REMOVED) {
      const oldest = record.removed.values().next().value;
      if (oldest !== undefined) record.removed.delete(oldest);
    }
  }
}

/** Members sorted by id (the ring order). */
export function membersOf(record: SliceRecord): PeerId[] {
  return [...record.members.keys()].sort();
}

/** A record as the snapshot and commands show it. */
export function sliceInfo(record: SliceRecord): CloudSliceInfo {
  return { name: record.name, owner: record.owner, query: record.query, size: record.members.size, members: membersOf(record) };
}
