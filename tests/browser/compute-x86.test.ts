/**
 * x86 jobs through the compute service in real Chromium (issue #5, second round): three browser peers join one
 * cloud; a job whose image is the committed multiboot guest (run from its booted snapshot; each task's args are
 * its command line) is published from one peer's compute panel, runs in v86 on another peer, and returns the
 * guest's serial output as stdout; the form refuses input files for that guest (E_X86_INPUT_FILES_UNSUPPORTED).
 * Where the Linux guest was built (npm run build:guests), a second job runs the shipped static i386 program in it
 * with a text input file chosen in the form, which the program reads from its working directory. The hosts that
 * ran accepted tasks show credit for them (issue #6). Last, guest images survive a host restart: a host that
 * fetched the multiboot guest's snapshot has its tab closed and reopened (a new node, same profile), and runs
 * the next job of that image from its IndexedDB image cache without fetching it again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, openPeer, openTab, startCloudServer, viewPeers, waitUntil, type CloudServer, type PeerTab } from './harness.ts';
import { submitComputeJob, tasksOf } from './compute-page.ts';
import { nodeCommand, nodeServices } from './node-port.ts';
import type { ComputeSnapshot } from '../../src/runtime/services/compute-types.ts';

const LINUX_BUILT = existsSync('public/guests/linux/index.json');
let server: CloudServer;
let browser: Browser;
let peers: PeerTab[] = [];
const CLOUD = 'x86';
const URL_PATH = (): string => `${server.url}/?cloud=${CLOUD}&tick=500`;

const computeOf = async (page: Page): Promise<ComputeSnapshot> => (await nodeServices(page, CLOUD)).compute as ComputeSnapshot;

beforeAll(async () => {
  server = await startCloudServer();
  browser = await launchChromium();
  peers = await Promise.all(Array.from({ length: 3 }, () => openPeer(browser, URL_PATH())));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function publishX86(page: Page, guest: 'x86:multiboot' | 'x86:linux', tasks: string): Promise<Locator> {
  await page.getByTestId('compute-module-select').selectOption(guest);
  await page.getByTestId('compute-tasks').fill(tasks);
  await page.getByTestId('compute-time-limit').fill('60');
  return submitComputeJob(page, 30_000, 'x86 job published');
}

async function agreeingHosts(page: Page, job: Locator): Promise<string[]> {
  const [download] = await Promise.all([page.waitForEvent('download'), job.getByTestId('compute-download').click()]);
  const saved = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { results: { agreeing: string[] }[] };
  return saved.results.flatMap((r) => r.agreeing);
}

describe('x86 jobs in the live cloud', () => {
  it('the peers join and gossip', async () => {
    for (const peer of peers) await waitUntil(async () => (await viewPeers(peer.page)).length >= 1, 60_000, `${peer.peerId.slice(0, 8)} sees another peer`);
  });

  it('runs a multiboot guest job on another peer and returns its serial output', async () => {
    const page = peers[0]!.page;
    // The multiboot guest has no file system: the form refuses input files for it.
    await page.getByTestId('compute-module-select').selectOption('x86:multiboot');
    await page.getByTestId('compute-input-files').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('x\n') });
    await page.getByTestId('compute-submit').click();
    await waitUntil(async () => /^E_X86_INPUT_FILES_UNSUPPORTED/.test((await page.getByTestId('compute-error').textContent()) ?? ''), 10_000, 'the form refuses files for multiboot');
    await page.getByTestId('compute-input-files').setInputFiles([]);
    const job = await publishX86(page, 'x86:multiboot', 'echo hi there\nprimes 1000');
    await waitUntil(async () => ['done', 'failed'].includes((await job.getAttribute('data-state')) ?? ''), 90_000, 'x86 job settled');
    const tasks = await tasksOf(job);
    expect(tasks.map((t) => [t.state, t.stdout, t.error])).toEqual([
      ['done', 'hi there\n', ''],
      ['done', 'primes up to 1000: 168\n', ''],
    ]);
    const hosts = await agreeingHosts(page, job);
    expect(hosts).toHaveLength(2);
    expect(hosts).not.toContain(peers[0]!.peerId);
    // The host that ran them was credited for both accepted tasks.
    const credited = peers.filter((p) => hosts.includes(p.peerId));
    await waitUntil(async () => {
      let accepted = 0;
      for (const p of credited) accepted += Number(await p.page.getByTestId('compute-tasks-accepted').textContent());
      return accepted === 2;
    }, 20_000, 'hosts credited for the accepted x86 tasks');
    expect(Number(await page.getByTestId('compute-tasks-accepted').textContent())).toBe(0);
  }, 150_000);

  it.skipIf(!LINUX_BUILT)('runs the shipped static i386 program in the Linux guest on another peer, with an input file', async () => {
    const page = peers[1]!.page;
    await page.getByTestId('compute-input-files').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('from the form\n') });
    const job = await publishX86(page, 'x86:linux', 'alpha "two words" --cat notes.txt');
    await waitUntil(async () => ['done', 'failed'].includes((await job.getAttribute('data-state')) ?? ''), 120_000, 'Linux job settled');
    const [task] = await tasksOf(job);
    expect(task?.error).toBe('');
    expect(task?.state).toBe('done');
    expect(task?.stdout).toContain('hello from i386 linux, argc=5\narg[1]=alpha\narg[2]=two words\n');
    expect(task?.stdout).toContain('file notes.txt (14 bytes):\nfrom the form\n');
    expect(await agreeingHosts(page, job)).not.toContain(peers[1]!.peerId);
  }, 180_000);

  it('a host restarted in the same profile runs the next job of an image from its IndexedDB cache', async () => {
    const submitter = peers[0]!;
    const before = await Promise.all(peers.map(async (p) => ({ peer: p, stats: (await computeOf(p.page)).stats })));
    const fetched = before.filter((b) => b.peer !== submitter && (b.stats.imagesFrom?.submitter ?? 0) + (b.stats.imagesFrom?.dht ?? 0) > 0);
    expect(fetched.length).toBeGreaterThan(0);
    const host = fetched[0]!.peer;
    // Every other peer stops hosting, so the next job can only run on the restarted host.
    for (const p of peers) {
      if (p !== host) await nodeCommand(p.page, CLOUD, 'compute', 'setLimits', { maxConcurrent: 2, cpuCapPercent: 100, paused: true });
    }
    await host.page.close();
    // Nothing else of this profile is open: the node (its SharedWorker) stops; a new tab starts a fresh one.
    await new Promise((r) => setTimeout(r, 2_000));
    const reopened = await openTab(host.context, URL_PATH());
    peers[peers.indexOf(host)] = reopened;
    expect(reopened.peerId).toBe(host.peerId);
    await waitUntil(async () => (await computeOf(reopened.page)).kinds.includes('x86'), 30_000, 'the restarted host offers x86');
    const fresh = (await computeOf(reopened.page)).stats;
    expect(fresh.ran).toBe(0); // a new node, not the old worker
    expect(fresh.imagesFetched).toBe(0);

    const job = await publishX86(submitter.page, 'x86:multiboot', 'echo cached');
    await waitUntil(async () => ['done', 'failed'].includes((await job.getAttribute('data-state')) ?? ''), 90_000, 'job on the restarted host settled');
    expect((await tasksOf(job)).map((t) => [t.state, t.stdout])).toEqual([['done', 'cached\n']]);
    expect(await agreeingHosts(submitter.page, job)).toEqual([host.peerId]);
    const after = (await computeOf(reopened.page)).stats;
    expect(after.ran).toBe(1);
    expect(after.imagesFrom).toEqual({ cache: 1, dht: 0, submitter: 0 });
    expect(after.imagesFetched).toBe(0);
  }, 150_000);

  if (!LINUX_BUILT) {
    it('Linux guest job skipped: public/guests/linux was not built (run npm run build:guests)', () => {
      expect(LINUX_BUILT).toBe(false);
    });
  }
});
