/**
 * Credit for accepted work in real Chromium (issue #6): four browser peers, one "patched to lie" (`?lie=1`). A
 * 2-of-3 job published from one peer runs on the other three; the quorum accepts the honest results, so the honest
 * hosts' credit grows by the tasks they ran, while the liar — outvoted wherever it ran — earns nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPeer, startCloudServer, viewPeers, waitUntil, type CloudServer, type PeerTab } from './harness.ts';

let server: CloudServer;
let browser: Browser;
let submitter: PeerTab;
let honest: PeerTab[] = [];
let liar: PeerTab;

beforeAll(async () => {
  server = await startCloudServer();
  browser = await launchChromium();
  const url = `${server.url}/?cloud=credit&tick=500`;
  [submitter, liar, ...honest] = await Promise.all([
    openPeer(browser, url), openPeer(browser, `${url}&lie=1`), openPeer(browser, url), openPeer(browser, url),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const count = async (page: Page, testId: string): Promise<number> => Number(await page.getByTestId(testId).textContent());

describe('credit in the live cloud', () => {
  it('honest hosts earn credit for accepted results; the liar earns none', async () => {
    for (const p of [submitter, liar, ...honest]) await waitUntil(async () => (await viewPeers(p.page)).length >= 1, 60_000, 'peers gossip');
    await waitUntil(async () => (await liar.page.getByTestId('compute-lying').count()) === 1, 20_000, 'the liar shows its test hook');
    // One honest host starts paused, so the first k = 2 copies of every task go to the liar and the other honest
    // host: each task then has two disagreeing results, and only the paused host's copy, once it resumes, can
    // complete the quorum. (With all three lending, fast honest hosts could take every first copy themselves.)
    const [early, late] = honest as [PeerTab, PeerTab];
    await late.page.getByTestId('compute-paused').check();
    await late.page.getByTestId('compute-apply-limits').click();
    await waitUntil(async () => (await late.page.getByTestId('compute-panel').textContent())?.includes('Now: paused') ?? false, 10_000, 'one honest host paused');
    const page = submitter.page;
    await page.getByTestId('compute-module-select').selectOption('hello.wasm');
    await page.getByTestId('compute-tasks').fill(Array.from({ length: 12 }, (_, i) => `c${i}`).join('\n'));
    await page.getByTestId('compute-redundancy-n').fill('3');
    await page.getByTestId('compute-quorum-k').fill('2');
    await page.getByTestId('compute-submit').click();
    const note = page.getByTestId('compute-submitted');
    await waitUntil(async () => /job [0-9a-f]{16}/.test((await note.textContent()) ?? ''), 20_000, 'job published');
    const jobId = /job ([0-9a-f]{16})/.exec((await note.textContent()) ?? '')![1]!;
    const job = page.locator(`[data-testid="compute-job"][data-job-id="${jobId}"]`);
    await waitUntil(async () => (await count(liar.page, 'compute-ran')) >= 12 && (await count(early.page, 'compute-ran')) >= 12, 90_000, 'liar and one honest host ran every task');
    expect(await job.getAttribute('data-state')).not.toBe('done');
    await late.page.getByTestId('compute-paused').uncheck();
    await late.page.getByTestId('compute-apply-limits').click();
    await waitUntil(async () => (await job.getAttribute('data-state')) === 'done', 120_000, 'quorum job done');
    expect(await job.getByTestId('compute-suspects').textContent()).toContain(liar.peerId);

    // Only the two honest hosts can agree, so every one of the 12 tasks is accepted on both: 24 credited results.
    await waitUntil(async () => (await count(honest[0]!.page, 'compute-tasks-accepted')) + (await count(honest[1]!.page, 'compute-tasks-accepted')) === 24,
      20_000, 'honest hosts credited');
    for (const h of honest) {
      expect(await count(h.page, 'compute-tasks-accepted')).toBe(12);
      expect(await count(h.page, 'compute-credit-seconds')).toBeGreaterThan(0);
    }
    expect(await count(liar.page, 'compute-ran')).toBeGreaterThan(0);
    expect(await count(liar.page, 'compute-tasks-accepted')).toBe(0);
    expect(await count(liar.page, 'compute-credit-seconds')).toBe(0);
    expect(await count(submitter.page, 'compute-tasks-accepted')).toBe(0);
  }, 200_000);
});
