/**
 * What this node knows of other peers' attributes and slice membership, kept fresh by push-pull gossip over the
 * peer-sampling view (the P2PCS Information/Monitoring service, in small). Each entry has an age in cycles since
 * its peer last spoke for itself; entries are relayed with one cycle of age per hop and dropped beyond `maxAge`.
 * A peer whose link closed is forgotten but not refused: links also close to respect a connection cap, so only
 * age (nobody heard it first-hand lately) decides that a peer is gone. Allocation
 * takes its candidates from here, and site clustering its head: the longest-uptime fresh peer of the site (the
 * max gossiped over the view — when the head leaves, its entry ages out and the next longest takes over).
 */
import type { PeerId } from '../../core/ids.ts';
import type { NodeAttributes } from '../../protocols/attributes.ts';
import type { DirectoryWireEntry } from './cloud-messages.ts';

export interface DirectoryEntry {
  readonly attrs: NodeAttributes;
  /** The slice the peer is a member of (or holds a claim for); null when free. */
  readonly slice: string | null;
  readonly age: number;
}

export class Directory {
  private readonly entries = new Map<PeerId, DirectoryEntry>();
  constructor(
    private readonly self: PeerId,
    readonly maxAge = 30,
  ) {}

  tick(): void {
    for (const [peer, e] of this.entries) {
      if (e.age + 1 > this.maxAge) this.entries.delete(peer);
      else this.entries.set(peer, { ...e, age: e.age + 1 });
    }
  }

  /** Entries received from `from`; its own entry (age 0) is first-hand, the rest cost a hop. */
  merge(from: PeerId, received: readonly DirectoryWireEntry[]): void {
    for (const r of received) {
      if (r.peer === this.self) continue;
      const age = r.peer === from ? 0 : r.age + 1;
      if (age > this.maxAge) continue;
      const known = this.entries.get(r.peer);
      if (known && known.age <= age) continue;
      this.entries.set(r.peer, { attrs: r.attrs, slice: r.slice, age });
    }
  }

  /** A peer's link closed: forget it until someone relays fresh news of it. */
  down(peer: PeerId): void {
    this.entries.delete(peer);
  }

  /** Our own entry first, then the freshest others, at most `count` in all. */
  outgoing(own: Omit<DirectoryWireEntry, 'peer' | 'age'>, count: number): DirectoryWireEntry[] {
    const others = [...this.entries]
      .sort((a, b) => a[1].age - b[1].age)
      .slice(0, Math.max(0, count - 1))
      .map(([peer, e]) => ({ peer, attrs: e.attrs, slice: e.slice, age: e.age }));
    return [{ peer: this.self, age: 0, ...own }, ...others];
  }

  get(peer: PeerId): DirectoryEntry | undefined {
    return this.entries.get(peer);
  }

  /** Known peers (never self) whose entry is at most `maxAge` cycles old. */
  fresh(maxAge = this.maxAge): [PeerId, DirectoryEntry][] {
    return [...this.entries].filter(([, e]) => e.age <= maxAge);
  }

  /** Notes locally that `peer` was just claimed or released, until its own gossip says so. */
  markSlice(peer: PeerId, slice: string | null): void {
    const e = this.entries.get(peer);
    if (e) this.entries.set(peer, { ...e, slice });
  }
}

export interface SiteView {
  readonly head: PeerId;
  readonly members: PeerId[];
}

/**
 * The site of `self`: fresh peers with the same label, and the head (max uptime, ties by higher id). A relayed
 * entry's uptime is as old as the entry, so `age` cycles of `secondsPerCycle` are added back: without that, a
 * younger peer heard first-hand could outrank the real head heard through others, and nodes would disagree.
 */
export function siteOf(self: PeerId, own: NodeAttributes, directory: Directory, secondsPerCycle = 0): SiteView {
  let head = self;
  let headUptime = own.uptimeS;
  const members = [self];
  for (const [peer, e] of directory.fresh()) {
    if (e.attrs.site !== own.site) continue;
    members.push(peer);
    // Whole seconds only, as uptimes are gossiped: peers that started together still tie (and then ids decide).
    const uptime = e.attrs.uptimeS + Math.floor(e.age * secondsPerCycle);
    if (uptime > headUptime || (uptime === headUptime && peer > head)) {
      head = peer;
      headUptime = uptime;
    }
  }
  return { head, members: members.sort() };
}
