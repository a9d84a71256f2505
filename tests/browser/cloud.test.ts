/**
 * The P2PCS cloud service across 12 real Chromium peers (one browser context each, `?tick=300`) and one headless Node peer: two slices requested concurrently from two pages ("4 fastest by
 * cpuScore", "3 with most memory") are disjoint, of the asked sizes, and each forms a T-Man ring by id over its
 * members; closing two members of a slice repairs its ring over the rest; invalid queries, impossible requests
 * and unknown slices get their named errors. (That the live size estimate follows the two departures is not
 * asserted: in this cloud it did not reliably drop within two minutes — an open defect, see issue #3's note.)
 *
 * Test hook (no page code involved): commands and snapshots go to a page's node the way its own tab does, by
 * opening another port to the page's SharedWorker (same script URL and name `nephele:<cloud>`) and speaking
 * comlink's wire messages on it (APPLY `command` / `snapshot`) — see `call` below.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPeer, spawnNodePeer, startCloudServer, waitUntil, type CloudServer, type NodePeerProcess, type PeerTab } from './harness.ts';
import type { CloudSliceInfo, CloudSnapshot } from '../../src/runtime/services/cloud-types.ts';

const PEERS = 12;
const CLOUD = 'slices';

let server: CloudServer;
let browser: Browser;
let nodePeer: NodePeerProcess | null = null;

beforeAll(async () => {
  server = await startCloudServer();
  browser = await launchChromium();
});

afterAll(async () => {
  await nodePeer?.stop();
  await browser?.close();
  await server?.close();
});

const workerScript = `/assets/${readdirSync('dist/assets').find((f) => /^node\.sharedworker-.*\.js$/.test(f))}`;

type Reply = { ok: true; value: unknown } | { ok: false; error: string };

/** Calls a TabSession method on the page's node through a fresh comlink port to its SharedWorker. */
async function call(page: Page, method: 'command' | 'snapshot', args: unknown[]): Promise<Reply> {
  return page.evaluate(async ({ script, cloud, method, args }) => {
    const port = new SharedWorker(new URL(script, location.href), { type: 'module', name: `nephele:${cloud}` }).port;
    const id = crypto.randomUUID();
    const data = await new Promise<{ type: string; name?: string; value: unknown }>((resolve) => {
      port.onmessage = (e: MessageEvent) => {
        if ((e.data as { id?: string }).id === id) resolve(e.data);
      };
      port.postMessage({ id, type: 'APPLY', path: [method], argumentList: args.map((value) => ({ type: 'RAW', value })) });
    });
    port.close();
    if (data.type === 'HANDLER' && data.name === 'throw') {
      const thrown = data.value as { isError: boolean; value: { message?: string } | unknown };
      return { ok: false as const, error: thrown.isError ? String((thrown.value as { message?: string }).message) : String(thrown.value) };
    }
    return { ok: true as const, value: data.value };
  }, { script: workerScript, cloud: CLOUD, method, args });
}

async function command(page: Page, name: string, args: unknown): Promise<unknown> {
  const reply = await call(page, 'command', ['cloud', name, args]);
  if (!reply.ok) throw new Error(reply.error);
  return reply.value;
}

async function failure(page: Page, name: string, args: unknown): Promise<string> {
  const reply = await call(page, 'command', ['cloud', name, args]);
  return reply.ok ? 'succeeded' : reply.error;
}

async function cloudState(page: Page): Promise<CloudSnapshot> {
  const reply = await call(page, 'snapshot', []);
  if (!reply.ok) throw new Error(reply.error);
  return (reply.value as { services: { cloud: CloudSnapshot } }).services.cloud;
}

/** Every member that has a page points to its id-order neighbours among `members` (the Node peer's own
 *  pointers cannot be read here; its neighbours' pointers to it are checked). */
async function isRing(pages: Map<string, Page>, members: readonly string[]): Promise<boolean> {
  const sorted = [...members].sort();
  for (let i = 0; i < sorted.length; i++) {
    const page = pages.get(sorted[i]!);
    if (!page) continue;
    const m = (await cloudState(page)).membership;
    if (!m || m.ring.succ !== sorted[(i + 1) % sorted.length] || m.ring.pred !== sorted[(i - 1 + sorted.length) % sorted.length]) return false;
    if ([...m.members].sort().join() !== sorted.join()) return false;
  }
  return true;
}

describe('cloud service across real browser peers and a Node peer', () => {
  it('allocates disjoint slices concurrently, rings them, repairs a ring after members leave, names its errors', async () => {
    const url = `${server.url}/?cloud=${CLOUD}&tick=300`;
    const peers: PeerTab[] = [];
    for (let i = 0; i < PEERS; i += 4) peers.push(...(await Promise.all(Array.from({ length: Math.min(4, PEERS - i) }, () => openPeer(browser, url)))));
    nodePeer = await spawnNodePeer(server.wsUrl, join(mkdtempSync(join(tmpdir(), 'nephele-cloud-')), 'identity.json'), ['--cloud', CLOUD]);
    const pages = new Map(peers.map((p) => [p.peerId, p.page]));
    const [first, second] = peers;

    // Both requesters know every other peer (the Node peer included) before asking.
    await waitUntil(async () => {
      const [a, b] = await Promise.all([cloudState(first!.page), cloudState(second!.page)]);
      return a.knownPeers >= PEERS && b.knownPeers >= PEERS && a.site.members.includes(nodePeer!.peerId);
    }, 60_000, 'directories know all 13 peers');
    const a = await cloudState(first!.page);
    expect(a.attributes.cpuScore).toBeGreaterThan(0);
    expect(a.attributes.cpuScoreMethod).toBe('wasm');

    const [fast, big] = (await Promise.all([
      command(first!.page, 'runInstances', { slice: 'fastest', query: { kind: 'top-count', n: 4, attribute: 'cpuScore' } }),
      command(second!.page, 'runInstances', { slice: 'most-memory', query: { kind: 'top-count', n: 3, attribute: 'memoryMB' } }),
    ])) as CloudSliceInfo[];
    expect(fast!.members).toHaveLength(4);
    expect(big!.members).toHaveLength(3);
    expect(fast!.members.filter((p) => big!.members.includes(p))).toEqual([]);

    await waitUntil(async () => (await isRing(pages, fast!.members)) && (await isRing(pages, big!.members)), 60_000, 'both slice rings');

    expect(await failure(first!.page, 'runInstances', { slice: 'x', query: { kind: 'top-fraction', p: 1.5, attribute: 'cpuScore' } })).toMatch(/^E_BAD_QUERY/);
    expect(await failure(first!.page, 'runInstances', { slice: 'x', query: { kind: 'top-count', n: 2, attribute: 'shoeSize' } })).toMatch(/^E_UNKNOWN_ATTRIBUTE/);
    expect(await failure(first!.page, 'runInstances', { slice: 'x', query: { kind: 'top-count', n: 50, attribute: 'cpuScore' } })).toMatch(/^E_IMPOSSIBLE: needs 50 free matching peers/);
    expect(await failure(first!.page, 'describeInstances', { slice: 'no-such-slice' })).toMatch(/^E_UNKNOWN_SLICE/);

    // Close two members of 'fastest' that are neither its owner nor the Node peer.
    const victims = fast!.members.filter((p) => p !== first!.peerId && pages.has(p)).slice(0, 2);
    expect(victims).toHaveLength(2);
    for (const v of victims) await peers.find((p) => p.peerId === v)!.context.close();
    for (const v of victims) pages.delete(v);
    const rest = fast!.members.filter((p) => !victims.includes(p));
    await waitUntil(async () => {
      const owner = (await cloudState(first!.page)).slices.find((s) => s.name === 'fastest');
      return owner !== undefined && [...owner.members].sort().join() === [...rest].sort().join() && (await isRing(pages, rest));
    }, 60_000, 'ring repaired over the remaining members');
  }, 300_000);
});
