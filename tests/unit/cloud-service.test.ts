/**
 * The cloud service in real NodeCores joined by an in-memory loopback network (frames delivered asynchronously):
 * the attribute directory spreads, runInstances allocates exactly the n best free matching peers, two concurrent
 * requests for the same best peers end disjoint, slice members form a ring by id that heals when members die,
 * commands fail with named errors, the site head is the longest-uptime peer of the site, and Sliver's rank
 * estimates by both attributes become exact.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import type { EdgeCommands } from '../../src/net/types.ts';
import { NodeCore } from '../../src/runtime/node-core.ts';
import { cloudService } from '../../src/runtime/services/cloud-service.ts';
import type { CloudDescribeResult, CloudSliceInfo, CloudSnapshot } from '../../src/runtime/services/cloud-types.ts';
import { rejection } from './support/test-data.ts';

class LoopbackNet {
  readonly cores = new Map<PeerId, NodeCore>();
  edge(self: PeerId): EdgeCommands {
    return {
      send: (to, frame) => {
        const core = this.cores.get(to);
        if (!core || !this.cores.has(self)) return false;
        const copy = frame.slice();
        // A closed link delivers nothing more: frames in flight from a peer that was killed are lost.
        setTimeout(() => this.cores.has(self) && this.cores.has(to) && core.onFrame(self, copy), 0);
        return true;
      },
      connect: () => undefined,
      disconnect: () => undefined,
    };
  }
  kill(core: NodeCore): void {
    core.stop();
    this.cores.delete(core.peerId);
    for (const other of this.cores.values()) other.onPeerDown(core.peerId, 'closed');
  }
}

let started: NodeCore[] = [];
afterEach(() => {
  for (const c of started) c.stop();
  started = [];
});

/** Peer i has cpuScore 100 + i and memory 1024 × (i + 1): the same peers are best at both. */
async function cloud(size: number): Promise<{ net: LoopbackNet; cores: NodeCore[]; cpu: Map<PeerId, number> }> {
  const net = new LoopbackNet();
  const cores: NodeCore[] = [];
  const cpu = new Map<PeerId, number>();
  for (let i = 0; i < size; i++) {
    const identity = await generateIdentity();
    const attributes = { cores: 2, memoryMB: 1024 * (i + 1), cpuScore: 100 + i, storageMB: 500, site: i < 3 ? 'lab' : 'home' };
    const core = new NodeCore({ identity, cloud: 'test', tickMs: 40, services: [cloudService({ attributes })], runner: () => null });
    cpu.set(core.peerId, 100 + i);
    net.cores.set(core.peerId, core);
    cores.push(core);
  }
  for (const core of cores) core.attachEdge(net.edge(core.peerId));
  for (const a of cores) for (const b of cores) if (a !== b) a.onPeerUp(b.peerId);
  for (const core of cores) core.onBootstrap(cores.map((c) => c.peerId));
  for (const core of cores) core.start();
  started = cores;
  return { net, cores, cpu };
}

const state = (core: NodeCore): CloudSnapshot => core.snapshot().services.cloud as CloudSnapshot;
const run = (core: NodeCore, command: string, args: unknown): Promise<unknown> => core.command('cloud', command, args);

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every member's T-Man ring neighbours are its id-order neighbours among exactly `members`. */
function isRing(cores: readonly NodeCore[], members: readonly PeerId[]): boolean {
  const sorted = [...members].sort();
  return sorted.every((peer, i) => {
    const core = cores.find((c) => c.peerId === peer);
    const m = core ? state(core).membership : null;
    if (!m) return false;
    const succ = sorted[(i + 1) % sorted.length], pred = sorted[(i - 1 + sorted.length) % sorted.length];
    return m.ring.succ === succ && m.ring.pred === pred && [...m.members].sort().join() === sorted.join();
  });
}

describe('cloud service between NodeCores', () => {
  it('allocates disjoint slices under concurrent requests, rings them, heals them, and names its errors', async () => {
    const { net, cores, cpu } = await cloud(10);
    const [a, b] = cores;
    // Allocation uses only peers whose attributes it knows: wait until both requesters know everyone.
    await until(() => state(a!).knownPeers === 9 && state(b!).knownPeers === 9, 10_000, 'directories filled');

    const [fast, big] = (await Promise.all([
      run(a!, 'runInstances', { slice: 'fast', query: { kind: 'top-count', n: 4, attribute: 'cpuScore' } }),
      run(b!, 'runInstances', { slice: 'big', query: { kind: 'top-count', n: 3, attribute: 'memoryMB' } }),
    ])) as CloudSliceInfo[];
    expect(fast!.members).toHaveLength(4);
    expect(big!.members).toHaveLength(3);
    expect(fast!.members.filter((p) => big!.members.includes(p))).toEqual([]);
    // Together they hold the 7 best peers, and each holds peers only from them.
    const best7 = [...cpu].sort((x, y) => y[1] - x[1]).slice(0, 7).map(([p]) => p).sort();
    expect([...fast!.members, ...big!.members].sort()).toEqual(best7);

    await until(() => isRing(cores, fast!.members) && isRing(cores, big!.members), 15_000, 'slice rings');
    const described = (await run(a!, 'describeInstances', { slice: 'fast' })) as CloudDescribeResult;
    expect(described.instances.map((i) => i.peer)).toEqual([...fast!.members].sort());
    expect(described.instances.every((i) => i.attributes !== null && i.ring?.succ !== null)).toBe(true);

    await new Promise((r) => setTimeout(r, 600)); // let gossip tell a which peers b took
    expect(await rejection(run(a!, 'runInstances', { slice: 'more', query: { kind: 'top-count', n: 4, attribute: 'cpuScore' } }))).toMatch(/^E_IMPOSSIBLE: needs 4 free matching peers, only 3 exist/);
    expect(await rejection(run(a!, 'runInstances', { slice: 'x', query: { kind: 'top-count', n: 1, attribute: 'colour' } }))).toMatch(/^E_UNKNOWN_ATTRIBUTE/);
    expect(await rejection(run(a!, 'runInstances', { slice: 'x', query: { kind: 'fraction', p: 2 } }))).toMatch(/^E_BAD_QUERY/);
    expect(await rejection(run(a!, 'describeInstances', { slice: 'nope' }))).toMatch(/^E_UNKNOWN_SLICE/);
    expect(await rejection(run(a!, 'runInstances', { slice: 'fast', query: { kind: 'fraction', p: 0.1 } }))).toMatch(/^E_SLICE_EXISTS/);
    expect(await rejection(run(a!, 'runInstances', { slice: 'bad name!', query: { kind: 'fraction', p: 0.1 } }))).toMatch(/^E_BAD_ARGS/);
    expect(await rejection(run(a!, 'frobnicate', {}))).toMatch(/^E_UNKNOWN_COMMAND/);

    // Two members of 'fast' die (not the requester): the others drop them and the ring heals over the rest.
    const victims = fast!.members.filter((p) => p !== a!.peerId).slice(0, 2);
    for (const v of victims) net.kill(cores.find((c) => c.peerId === v)!);
    const alive = cores.filter((c) => net.cores.has(c.peerId));
    const rest = fast!.members.filter((p) => !victims.includes(p));
    await until(() => isRing(alive, rest), 15_000, 'ring healed');
    await until(() => ((state(a!).slices.find((s) => s.name === 'fast')?.size) ?? 0) === 2, 15_000, 'owner record shrinks');

    // addInstances refills from free peers; terminate and release free them again.
    const refilled = (await run(a!, 'addInstances', { slice: 'fast', n: 2 })) as CloudSliceInfo;
    expect(refilled.size).toBe(4);
    await until(() => isRing(alive, refilled.members), 15_000, 'refilled ring');
    const gone = refilled.members.find((p) => p !== a!.peerId)!;
    const after = (await run(a!, 'terminateInstances', { slice: 'fast', peers: [gone] })) as CloudSliceInfo;
    expect(after.members).not.toContain(gone);
    await until(() => state(alive.find((c) => c.peerId === gone)!).membership === null, 5000, 'terminated member freed');
    expect(await rejection(run(a!, 'terminateInstances', { slice: 'fast', peers: [gone] }))).toMatch(/^E_NOT_MEMBER/);
    expect(await run(b!, 'releaseSlice', { slice: 'big' })).toEqual({ released: 3 });
    await until(() => big!.members.every((p) => !net.cores.has(p) || state(net.cores.get(p)!).membership === null), 5000, 'big released');
  }, 60_000);

  it('elects the longest-uptime peer of each site as its head, and reports totals from aggregation', async () => {
    const { cores } = await cloud(6);
    await until(() => cores.every((c) => state(c).site.members.length === (cores.indexOf(c) < 3 ? 3 : 3)), 10_000, 'sites known');
    for (const site of ['lab', 'home']) {
      const members = cores.filter((c) => state(c).attributes.site === site);
      const heads = new Set(members.map((c) => state(c).site.head));
      expect(heads.size).toBe(1);
      const head = [...heads][0]!;
      expect(members.some((c) => c.peerId === head && state(c).site.isHead)).toBe(true);
    }
    await until(() => state(cores[0]!).totals.peers !== null && state(cores[0]!).totals.freeCores !== null, 45_000, 'totals (the first aggregation epoch lasts ~10 s)');
    const t = state(cores[0]!).totals;
    expect(t.peers!).toBeGreaterThan(4);
    expect(t.peers!).toBeLessThan(8);
    expect(t.freeCores! / t.peers!).toBeCloseTo(2, 0);
    expect(state(cores[0]!).attributes.cpuScore).toBe(100);
    const site = await run(cores[0]!, 'setSite', { site: 'moon' });
    expect((site as { site: string }).site).toBe('moon');
  }, 70_000);

  it('estimates each peer rank by cpuScore and by memoryMB exactly, over one Sliver exchange for both', async () => {
    const { cores } = await cloud(8);
    // Peer i is the (i+1)-th lowest by both attributes: its true rank is i / 8 (with all 7 others heard).
    const exact = (): boolean => cores.every((c, i) => state(c).ranks.cpuScore === i / 8 && state(c).ranks.memoryMB === i / 8);
    await until(exact, 15_000, 'exact rank estimates');
    expect(Object.keys(state(cores[0]!).ranks).sort()).toEqual(['cpuScore', 'memoryMB']);
  }, 30_000);
});
