/**
 * x86 jobs through the compute service in real Chromium (issue #5, second round): three browser peers join one
 * cloud; a job whose image is the committed multiboot guest (run from its booted snapshot; each task's args are
 * its command line) is published from one peer's compute panel, runs in v86 on another peer, and returns the
 * guest's serial output as stdout. Where the Linux guest was built (npm run build:guests), a second job runs the
 * shipped static i386 program in it. The hosts that ran accepted tasks show credit for them (issue #6).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, openPeer, startCloudServer, viewPeers, waitUntil, type CloudServer, type PeerTab } from './harness.ts';
import { submitComputeJob, tasksOf } from './compute-page.ts';

const LINUX_BUILT = existsSync('public/guests/linux/index.json');
let server: CloudServer;
let browser: Browser;
let peers: PeerTab[] = [];

beforeAll(async () => {
  server = await startCloudServer();
  browser = await launchChromium();
  const url = `${server.url}/?cloud=x86&tick=500`;
  peers = await Promise.all(Array.from({ length: 3 }, () => openPeer(browser, url)));
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

  it.skipIf(!LINUX_BUILT)('runs the shipped static i386 program in the Linux guest on another peer', async () => {
    const page = peers[1]!.page;
    const job = await publishX86(page, 'x86:linux', 'alpha "two words"');
    await waitUntil(async () => ['done', 'failed'].includes((await job.getAttribute('data-state')) ?? ''), 120_000, 'Linux job settled');
    const [task] = await tasksOf(job);
    expect(task?.error).toBe('');
    expect(task?.state).toBe('done');
    expect(task?.stdout).toContain('hello from i386 linux, argc=3\narg[1]=alpha\narg[2]=two words\n');
    expect(await agreeingHosts(page, job)).not.toContain(peers[1]!.peerId);
  }, 180_000);

  if (!LINUX_BUILT) {
    it('Linux guest job skipped: public/guests/linux was not built (run npm run build:guests)', () => {
      expect(LINUX_BUILT).toBe(false);
    });
  }
});
