/**
 * What a closed link means to the node: a link evicted to make room under the connection cap leaves the peer in
 * the gossip view (it is alive; the next message reopens a link), while a link that failed or closed removes it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/identity/identity.ts';
import { EVICTED_REASON } from '../../src/net/types.ts';
import { NodeCore } from '../../src/runtime/node-core.ts';

const cores: NodeCore[] = [];
afterEach(() => {
  for (const core of cores.splice(0)) core.stop();
});

async function coreWithPeers(peers: readonly string[]): Promise<NodeCore> {
  const core = new NodeCore({ identity: await generateIdentity(), cloud: 'links', tickMs: 1000, services: [], runner: () => null });
  cores.push(core);
  core.attachEdge({ send: () => true, connect: () => {}, disconnect: () => {} });
  core.onBootstrap(peers);
  for (const peer of peers) core.onPeerUp(peer);
  return core;
}

const viewOf = (core: NodeCore): string[] => core.snapshot().view.map((e) => e.peer);

describe('NodeCore link loss', () => {
  it('keeps an evicted peer in its view but forgets one whose link closed', async () => {
    // Cyclon's first cycle runs when the first link opens, and its shuffle partner leaves the view until it
    // answers (it never does here): two of the three stay.
    const all = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)];
    const core = await coreWithPeers(all);
    const [a, b, ...rest] = viewOf(core);
    expect(rest).toHaveLength(0);
    core.onPeerDown(a!, EVICTED_REASON);
    core.onPeerDown(b!, 'E_CHANNEL_CLOSED: the data channel closed');
    for (const partner of all.filter((p) => p !== a && p !== b)) core.onPeerDown(partner, 'E_CHANNEL_CLOSED: the data channel closed');
    expect(viewOf(core)).toEqual([a]);
    expect(core.snapshot().connections.map((c) => c.peer)).toEqual([]);
  });
});
