/**
 * A node that is cut off (no link up, no attempt under way) asks the signaling server for peers again, so a node
 * whose first bootstrap peers were all unreachable does not stay alone with an empty view for good. Real server,
 * real NetworkEdge; no WebRTC link is needed for this.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startSignalingServer, type SignalingServer } from '../../signaling/server.ts';
import type { PeerId } from '../../src/core/ids.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import { identityAuthority } from '../../src/runtime/authenticator.ts';
import { ISOLATED_DISCOVER_MS, NetworkEdge } from '../../src/net/edge.ts';
import { nodePlatform } from '../../src/net/platform-node.ts';

interface Joined {
  readonly id: PeerId;
  readonly edge: NetworkEdge;
  readonly bootstraps: PeerId[][];
  readonly log: string[];
  joined: boolean;
}

const edges: NetworkEdge[] = [];
let server: SignalingServer | null = null;

afterAll(async () => {
  for (const e of edges) e.stop();
  await server?.close();
});

async function join(wsUrl: string): Promise<Joined> {
  const identity = await generateIdentity();
  const j: Joined = { id: identity.peerId, edge: null as unknown as NetworkEdge, bootstraps: [], log: [], joined: false };
  const edge = new NetworkEdge({
    // No dials of its own at bootstrap: these tests are about a node that nobody links to.
    signalingUrl: wsUrl, iceServers: [], maxConnections: 8, platform: nodePlatform(), bootstrapDials: 0,
    events: {
      onPeerUp: () => {}, onPeerDown: () => {}, onFrame: () => {},
      onBootstrap: (peers) => j.bootstraps.push([...peers]),
      onSignalingState: (state) => (j.joined = state === 'joined'),
      onLog: (_level, text) => j.log.push(text),
    },
    authenticator: { peerId: identity.peerId, publicKey: identity.publicKey, cloud: 'isolation', ...identityAuthority(identity, () => null) },
  });
  (j as { edge: NetworkEdge }).edge = edge;
  edges.push(edge);
  edge.start();
  return j;
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('NetworkEdge when cut off', () => {
  it('asks the server for peers again while it has no link and no attempt under way', async () => {
    server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: null });
    const first = await join(server.wsUrl);
    await until('first joined', () => first.joined, 5_000);
    // Alone at join time: the welcome names nobody.
    expect(first.bootstraps).toEqual([[]]);
    const second = await join(server.wsUrl);
    await until('second joined', () => second.joined, 5_000);
    // Nobody dials anybody: the first node is cut off, so it asks again and now learns of the second.
    await until('a later bootstrap names the second node', () => first.bootstraps.slice(1).some((b) => b.includes(second.id)), ISOLATED_DISCOVER_MS + 4_000);
    expect(first.log.some((l) => l.includes('asking the signaling server for peers'))).toBe(true);
  }, 20_000);

  it('does not ask while a link attempt is under way', async () => {
    server ??= await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: null });
    const lone = await join(server.wsUrl);
    await until('joined', () => lone.joined, 5_000);
    // A dial to a peer that is not there stays pending until its connect timeout (15 s).
    lone.edge.connect('e'.repeat(40));
    await new Promise((r) => setTimeout(r, ISOLATED_DISCOVER_MS + 1_500));
    expect(lone.log.some((l) => l.includes('asking the signaling server for peers'))).toBe(false);
  }, 20_000);
});
