/**
 * The P2PCS cloud service across 12 real Chromium peers (one browser context each, `?tick=300`) and one headless
 * Node peer: two slices requested at the same time ("4 fastest by cpuScore" through the first page's slice form,
 * "3 with most memory" from the second page's node) are disjoint, of the asked sizes, and each forms a T-Man ring
 * by id over its members; the pages show it — each owner lists its slice and members, members show their ring
 * neighbours, the topology picture draws the ring edges, the uPlot charts are drawn and fed; the size estimate
 * reads 13 on every page, and after two members of a slice close, the ring is repaired over the rest and every
 * page's estimate reads 11; invalid queries, impossible requests and unknown slices get their named errors.
 *
 * Test hook (no page code involved): commands and snapshots go to a page's node the way its own tab does, by
 * opening another port to the page's SharedWorker (same script URL and name `nephele:<cloud>`) and speaking
 * comlink's wire messages on it (APPLY `command` / `snapshot`) — see `call` below.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPeer, spawnNodePeer, startCloudServer, waitUntil, type CloudServer, type NodePeerProcess, type PeerTab } from './harness.ts';
import type { CloudSliceInfo, CloudSnapshot } from '../../src/runtime/services/cloud-types.ts';
import { callNode, nodeCommand, nodeServices } from './node-port.ts';

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

async function command(page: Page, name: string, args: unknown): Promise<unknown> {
  return nodeCommand(page, CLOUD, 'cloud', name, args);
}

async function failure(page: Page, name: string, args: unknown): Promise<string> {
  const reply = await callNode(page, CLOUD, 'command', ['cloud', name, args]);
  return reply.ok ? 'succeeded' : reply.error;
}

async function cloudState(page: Page): Promise<CloudSnapshot> {
  return (await nodeServices(page, CLOUD))['cloud'] as CloudSnapshot;
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

/** The members a page lists for a slice in its Cloud panel. */
async function shownMembers(page: Page, slice: string): Promise<string[]> {
  const items = page.locator(`[data-testid="cloud-slice"][data-slice="${slice}"] [data-testid="cloud-slice-member"]`);
  return (await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-peer') ?? ''))).sort();
}

/** Every member with a page shows its id-order neighbours among `members` as its ring pred/succ, and the
 *  topology picture draws T-Man edges to both (the Node peer's own pointers are checked from its neighbours). */
async function ringShown(pages: Map<string, Page>, members: readonly string[]): Promise<boolean> {
  const sorted = [...members].sort();
  for (let i = 0; i < sorted.length; i++) {
    const page = pages.get(sorted[i]!);
    if (!page) continue;
    const pred = sorted[(i - 1 + sorted.length) % sorted.length]!;
    const succ = sorted[(i + 1) % sorted.length]!;
    if ((await page.getByTestId('cloud-ring-pred').getAttribute('title')) !== pred) return false;
    if ((await page.getByTestId('cloud-ring-succ').getAttribute('title')) !== succ) return false;
    const tman = await page.locator('[data-testid="cloud-topology"] line[data-kind="tman"]').count();
    const drawn = await page.locator('[data-testid="cloud-topology"] circle').evaluateAll((els) => els.map((e) => e.getAttribute('data-peer')));
    if (tman < 1 || !drawn.includes(pred) || !drawn.includes(succ)) return false;
  }
  return true;
}

/** The size estimate a page shows (an integer), NaN while it shows none. */
async function shownSize(page: Page): Promise<number> {
  return Number(((await page.getByTestId('cloud-size').textContent()) ?? '').trim());
}

/** A chart is drawn by uPlot (its canvas exists) and fed with at least `points` samples. */
async function chartFed(page: Page, testid: string, points: number): Promise<boolean> {
  const chart = page.getByTestId(testid);
  return Number(await chart.getAttribute('data-points')) >= points && (await chart.locator('.uplot canvas').count()) > 0;
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

    // 'fastest' through the first page's slice form while the second page's node asks for 'most-memory'.
    const form = first!.page;
    await form.getByTestId('cloud-slice-name').fill('fastest');
    await form.getByTestId('cloud-query-kind').selectOption('top-count');
    await form.getByTestId('cloud-query-value').fill('4');
    await form.getByTestId('cloud-query-attribute').selectOption('cpuScore');
    const [, bigInfo] = await Promise.all([
      form.getByTestId('cloud-run').click(),
      command(second!.page, 'runInstances', { slice: 'most-memory', query: { kind: 'top-count', n: 3, attribute: 'memoryMB' } }),
    ]);
    await waitUntil(async () => ((await form.getByTestId('cloud-created').textContent()) ?? '').includes('Slice fastest holds 4 peers'),
      60_000, 'the form reports slice fastest', async () => `error line: ${await form.getByTestId('cloud-error').textContent().catch(() => '(none)')}`);
    const fast = (await cloudState(first!.page)).slices.find((s) => s.name === 'fastest');
    const big = bigInfo as CloudSliceInfo;
    expect(fast!.members).toHaveLength(4);
    expect(big.members).toHaveLength(3);
    expect(fast!.members.filter((p) => big.members.includes(p))).toEqual([]);

    await waitUntil(async () => (await isRing(pages, fast!.members)) && (await isRing(pages, big.members)), 60_000, 'both slice rings');

    // What the pages show: each owner lists its slice with its members; members show their ring neighbours and
    // the topology draws the ring; the charts are drawn by uPlot and fed with samples.
    await waitUntil(async () => (await shownMembers(first!.page, 'fastest')).join() === [...fast!.members].sort().join()
      && (await shownMembers(second!.page, 'most-memory')).join() === [...big.members].sort().join(), 20_000, 'both slices listed by their owners');
    await waitUntil(async () => (await ringShown(pages, fast!.members)) && (await ringShown(pages, big.members)), 30_000, 'both rings shown on member pages');
    await waitUntil(async () => (await chartFed(first!.page, 'cloud-chart-size', 5)) && (await chartFed(first!.page, 'cloud-chart-slices', 5))
      && (await chartFed(first!.page, 'cloud-chart-load', 5)), 20_000, 'charts drawn and fed');
    expect(Number(await first!.page.locator('[data-testid="cloud-topology"]').getAttribute('data-nodes'))).toBeGreaterThanOrEqual(5);
    expect(await first!.page.locator('[data-testid="cloud-topology"] line[data-kind="cyclon"]').count()).toBeGreaterThan(0);

    expect(await failure(first!.page, 'runInstances', { slice: 'x', query: { kind: 'top-fraction', p: 1.5, attribute: 'cpuScore' } })).toMatch(/^E_BAD_QUERY/);
    expect(await failure(first!.page, 'runInstances', { slice: 'x', query: { kind: 'top-count', n: 2, attribute: 'shoeSize' } })).toMatch(/^E_UNKNOWN_ATTRIBUTE/);
    expect(await failure(first!.page, 'runInstances', { slice: 'x', query: { kind: 'top-count', n: 50, attribute: 'cpuScore' } })).toMatch(/^E_IMPOSSIBLE: needs 50 free matching peers/);
    expect(await failure(first!.page, 'describeInstances', { slice: 'no-such-slice' })).toMatch(/^E_UNKNOWN_SLICE/);

    // Every page shows the size estimate 13 (the Node peer included) before any peer leaves, and so does the
    // latest sample of the first page's size chart.
    const sizes = async (): Promise<number[]> => Promise.all([...pages.values()].map(shownSize));
    const charted = async (): Promise<number> =>
      Number(((await first!.page.getByTestId('cloud-chart-size').locator('strong').textContent()) ?? '').trim());
    const showsSize = async (n: number): Promise<boolean> => (await sizes()).every((x) => x === n) && Math.abs((await charted()) - n) < 0.5;
    await waitUntil(() => showsSize(PEERS + 1), 60_000, 'every page shows 13 peers',
      async () => `shown: ${(await sizes()).join(' ')}, charted ${await charted()}`);

    // Close two members of 'fastest' that are neither its owner nor the Node peer.
    const victims = fast!.members.filter((p) => p !== first!.peerId && pages.has(p)).slice(0, 2);
    expect(victims).toHaveLength(2);
    for (const v of victims) await peers.find((p) => p.peerId === v)!.context.close();
    for (const v of victims) pages.delete(v);
    const rest = fast!.members.filter((p) => !victims.includes(p));
    await waitUntil(async () => (await shownMembers(first!.page, 'fastest')).join() === [...rest].sort().join()
      && (await isRing(pages, rest)) && (await ringShown(pages, rest)), 60_000, 'ring repaired over the remaining members');
    // Epochs last about 10 s: the one under way when they left still counts them, the next one does not.
    await waitUntil(() => showsSize(PEERS - 1), 60_000, 'every page shows 11 peers',
      async () => `shown: ${(await sizes()).join(' ')}, charted ${await charted()}`);
  }, 300_000);
});
