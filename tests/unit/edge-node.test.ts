/**
 * The network edge for real: the signaling server and NetworkEdges with node-datachannel WebRTC in this process.
 * Peers join, link up after the handshake, carry small and fragmented frames; an outsider that a permissive
 * server lets into a private cloud is refused by the peers themselves; and once the server is gone, new links
 * are signaled through the overlay.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startSignalingServer, type SignalingServer } from '../../signaling/server.ts';
import type { PeerId } from '../../src/core/ids.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import { identityAuthority } from '../../src/runtime/authenticator.ts';
import { NetworkEdge } from '../../src/net/edge.ts';
import { nodePlatform } from '../../src/net/platform-node.ts';
import type { SignalingState } from '../../src/net/types.ts';

interface TestPeer {
  readonly id: PeerId;
  readonly edge: NetworkEdge;
  readonly up: Set<PeerId>;
  readonly down: { peer: PeerId; reason: string }[];
  readonly frames: { from: PeerId; frame: Uint8Array }[];
  readonly bootstrap: PeerId[];
  readonly log: string[];
  state: SignalingState;
}

const edges: NetworkEdge[] = [];
const servers: SignalingServer[] = [];

afterAll(async () => {
  for (const e of edges) e.stop();
  for (const s of servers) await s.close();
});

async function server(clouds?: Record<string, { secret: string }>): Promise<SignalingServer> {
  const s = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: null, ...(clouds ? { clouds } : {}) });
  servers.push(s);
  return s;
}

/** Edges here dial only when a test says so, unless `dials` lets them dial their bootstrap peers. */
async function peer(
  wsUrl: string, cloud: string, secret: string | null = null, maxConnections = 8, connectTimeoutMs?: number,
  dials: { bootstrapDials: number; maxConcurrentDials?: number; maxPendingLinks?: number } = { bootstrapDials: 0 },
): Promise<TestPeer> {
  const identity = await generateIdentity();
  const p: TestPeer = { id: identity.peerId, up: new Set(), down: [], frames: [], bootstrap: [], log: [], state: 'closed', edge: null as unknown as NetworkEdge };
  const edge = new NetworkEdge({
    signalingUrl: wsUrl,
    iceServers: [],
    maxConnections,
    platform: nodePlatform(),
    events: {
      onPeerUp: (peer) => p.up.add(peer),
      onPeerDown: (peer, reason) => {
        p.up.delete(peer);
        p.down.push({ peer, reason });
      },
      onFrame: (from, frame) => p.frames.push({ from, frame }),
      onBootstrap: (peers) => p.bootstrap.push(...peers),
      onSignalingState: (state) => {
        p.state = state;
        p.log.push(`signaling: ${state}`);
      },
      onLog: (_level, text) => p.log.push(text),
    },
    authenticator: { peerId: identity.peerId, publicKey: identity.publicKey, cloud, ...identityAuthority(identity, () => secret) },
    ...(connectTimeoutMs ? { connectTimeoutMs } : {}),
    ...dials,
  });
  (p as { edge: NetworkEdge }).edge = edge;
  edges.push(edge);
  edge.start();
  return p;
}

/** Waits for `cond`; on timeout the error carries the logs of `peers`. */
async function until(what: string, cond: () => boolean, ms = 10_000, peers: TestPeer[] = []): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) {
      const logs = peers.map((p) => `--- ${p.id.slice(0, 8)}:\n${p.log.join('\n')}\ndown: ${JSON.stringify(p.down)}`).join('\n');
      throw new Error(`timed out waiting for: ${what}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + 17) & 0xff;
  return out;
}

async function linked(a: TestPeer, b: TestPeer): Promise<void> {
  a.edge.connect(b.id);
  await until(`${a.id.slice(0, 8)} <-> ${b.id.slice(0, 8)} up`, () => a.up.has(b.id) && b.up.has(a.id), 10_000, [a, b]);
}

describe('NetworkEdge over node-datachannel', () => {
  it('joins, links up after the handshake and carries small and fragmented frames', async () => {
    const s = await server();
    const a = await peer(s.wsUrl, 'edge-test');
    await until('a joined', () => a.state === 'joined');
    const b = await peer(s.wsUrl, 'edge-test');
    await until('b joined and bootstrapped', () => b.state === 'joined' && b.bootstrap.includes(a.id));
    await linked(b, a);
    b.edge.connect(a.id); // already linked: no-op
    expect(a.edge.send(b.id, new Uint8Array([1, 2, 3]))).toBe(true);
    const big = pattern(1024 * 1024 + 7);
    expect(b.edge.send(a.id, big)).toBe(true);
    await until('frames delivered', () => b.frames.length === 1 && a.frames.length === 1);
    expect([...b.frames[0]!.frame]).toEqual([1, 2, 3]);
    expect(b.frames[0]!.from).toBe(a.id);
    expect(a.frames[0]!.frame.byteLength).toBe(big.byteLength);
    expect(Buffer.compare(a.frames[0]!.frame, big)).toBe(0);
    expect(a.edge.send('f'.repeat(40), new Uint8Array(1))).toBe(false);
    a.edge.disconnect(b.id);
    await until('b sees the link go down', () => !b.up.has(a.id));
  });

  it('a newcomer dials its bootstrap peers by itself, one at a time through its dial queue', async () => {
    const s = await server();
    const old = [await peer(s.wsUrl, 'boot'), await peer(s.wsUrl, 'boot'), await peer(s.wsUrl, 'boot')];
    await until('old peers joined', () => old.every((p) => p.state === 'joined'));
    const fresh = await peer(s.wsUrl, 'boot', null, 8, undefined, { bootstrapDials: 8, maxConcurrentDials: 1 });
    await until('newcomer linked to all three', () => old.every((p) => fresh.up.has(p.id) && p.up.has(fresh.id)), 15_000, [fresh, ...old]);
    expect(fresh.log.filter((l) => l.startsWith('link up:')).every((l) => l.includes('(dialed via'))).toBe(true);
    // Only the newcomer dialed: the old peers have no links among themselves.
    for (const p of old) expect([...p.up]).toEqual([fresh.id]);
  });

  it('a peer at its limit of link attempts refuses an offer as busy, and the dialer gives up at once', async () => {
    const s = await server();
    const full = await peer(s.wsUrl, 'busy', null, 8, undefined, { bootstrapDials: 0, maxPendingLinks: 0 });
    const dialer = await peer(s.wsUrl, 'busy', null, 8, 10_000);
    await until('both joined', () => full.state === 'joined' && dialer.state === 'joined');
    const started = Date.now();
    dialer.edge.connect(full.id);
    await until('the dialer hears busy', () => dialer.down.some((d) => d.peer === full.id), 5_000, [dialer, full]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(dialer.down.find((d) => d.peer === full.id)?.reason).toMatch(/^E_PEER_BUSY/);
    expect(full.up.size + dialer.up.size).toBe(0);
    // The dialer's slot is free again: a peer with room links up.
    const open = await peer(s.wsUrl, 'busy');
    await until('open joined', () => open.state === 'joined');
    await linked(dialer, open);
  });

  it('a server that knows the secret refuses a wrong one with E_BAD_PROOF', async () => {
    const s = await server({ lab: { secret: 'correct horse' } });
    const good = await peer(s.wsUrl, 'lab', 'correct horse');
    const bad = await peer(s.wsUrl, 'lab', 'wrong');
    await until('good joined, bad refused', () => good.state === 'joined' && bad.state === 'refused');
    expect(bad.log.join('\n')).toContain('E_BAD_PROOF');
  });

  it('peers refuse an outsider with E_LINK_BAD_PROOF even when the server lets it in', async () => {
    const s = await server();
    const a = await peer(s.wsUrl, 'lab', 's3cret');
    const b = await peer(s.wsUrl, 'lab', 's3cret');
    await until('insiders joined', () => a.state === 'joined' && b.state === 'joined');
    await linked(a, b);
    const outsider = await peer(s.wsUrl, 'lab', 'guess');
    await until('outsider joined', () => outsider.state === 'joined');
    outsider.edge.connect(a.id);
    await until('outsider refused', () => outsider.log.some((l) => l.includes('E_LINK_BAD_PROOF')) && a.log.some((l) => l.includes('E_LINK_BAD_PROOF')), 10_000, [outsider, a]);
    await until('outsider link closed', () => outsider.down.some((d) => d.peer === a.id));
    expect(outsider.up.size).toBe(0);
    expect(a.up.has(outsider.id)).toBe(false);
    expect(a.up.has(b.id)).toBe(true);
  });

  it('after the server is gone, links are signaled through the overlay', async () => {
    const s = await server();
    const a = await peer(s.wsUrl, 'overlay');
    const b = await peer(s.wsUrl, 'overlay');
    const c = await peer(s.wsUrl, 'overlay');
    await until('all joined', () => [a, b, c].every((p) => p.state === 'joined'));
    await linked(a, b);
    await linked(c, b);
    await s.close();
    await until('signaling gone', () => [a, b, c].every((p) => p.state !== 'joined'));
    a.edge.connect(c.id);
    await until('a <-> c up through b', () => a.up.has(c.id) && c.up.has(a.id), 10_000, [a, b, c]);
    expect(a.log.some((l) => l.includes(`link up: ${c.id.slice(0, 8)} (dialed via overlay)`))).toBe(true);
    expect(a.edge.send(c.id, new Uint8Array([42]))).toBe(true);
    await until('frame over the new link', () => c.frames.some((f) => f.from === a.id && f.frame[0] === 42));
  });

  it('resolves glare to one link when both sides dial at once', async () => {
    const s = await server();
    const a = await peer(s.wsUrl, 'glare');
    const b = await peer(s.wsUrl, 'glare');
    await until('both joined', () => a.state === 'joined' && b.state === 'joined');
    a.edge.connect(b.id);
    b.edge.connect(a.id);
    await until('a <-> b up', () => a.up.has(b.id) && b.up.has(a.id), 10_000, [a, b]);
    await new Promise((r) => setTimeout(r, 500));
    expect(a.down).toEqual([]);
    expect(b.down).toEqual([]);
    expect(a.edge.send(b.id, new Uint8Array([7]))).toBe(true);
    await until('frame arrives', () => b.frames.length === 1);
  });

  it('at the cap evicts the least recently used idle link, and times out a peer that never answers', async () => {
    const s = await server();
    const hub = await peer(s.wsUrl, 'cap', null, 2, 6000);
    const [x, y, z] = [await peer(s.wsUrl, 'cap'), await peer(s.wsUrl, 'cap'), await peer(s.wsUrl, 'cap')];
    await until('all joined', () => [hub, x!, y!, z!].every((p) => p.state === 'joined'));
    await linked(hub, x!);
    await linked(hub, y!);
    await new Promise((r) => setTimeout(r, 2100)); // links younger than 2 s are not evicted
    hub.edge.send(x!.id, new Uint8Array([1])); // x is now more recently used than y
    hub.edge.connect(z!.id);
    await until('z up', () => hub.up.has(z!.id) && z!.up.has(hub.id));
    expect(hub.down).toEqual([{ peer: y!.id, reason: 'evicted to make room' }]);
    expect([...hub.up].sort()).toEqual([x!.id, z!.id].sort());
    await until('y sees the link go down', () => !y!.up.has(hub.id));

    const ghost = 'f'.repeat(40);
    hub.edge.disconnect(x!.id);
    hub.edge.connect(ghost);
    await until('connect timeout', () => hub.down.some((d) => d.peer === ghost), 9000);
    expect(hub.down.find((d) => d.peer === ghost)?.reason).toContain('E_CONNECT_TIMEOUT');
  });
});
