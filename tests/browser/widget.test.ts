/**
 * The lending widget in real Chromium: a partner page on a second origin (http://localhost:<port>) embeds the
 * widget from the cloud (http://localhost:<cloud port>: cross-origin, same site, since this Chromium blocks
 * storage in cross-site frames — that case has its own test) with embed.js. Before consent the widget opens no WebSocket,
 * RTCPeerConnection or worker and stores nothing, and the page cannot consent for the visitor; after the
 * visitor's click (by keyboard) it joins the cloud and runs a job submitted from the portal; its credit grows
 * only once a quorum accepted its result (a 2-of-2 job with a third, plain peer); "Stop lending" disconnects it
 * and is remembered. The partner page cannot reach into the frame, and a site not on the allow-list cannot frame
 * the widget at all (CSP frame-ancestors).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Frame, Page, WebSocket } from 'playwright-core';
import { startSignalingServer } from '../../signaling/server.ts';
import { startPartnerSite, type PartnerSite } from '../../partner/partner-site.ts';
import {
  connectedPeers, launchChromium, newPeerContext, numberOf, openPeer, pageDiagnosis, viewPeers, waitUntil, type CloudServer, type PeerTab,
} from './harness.ts';
import { submitComputeJob, tasksOf } from './compute-page.ts';

const CLOUD = 'widgettest';
let server: CloudServer;
let browser: Browser;
let allowedSite: PartnerSite;
let blockedSite: PartnerSite;
let crossSite: PartnerSite;
let portal: PeerTab;
let partnerContext: BrowserContext;
let partnerPage: Page;
let cloudOrigin = '';
const sockets: WebSocket[] = [];
const cloudResponses: { url: string; bytes: number }[] = [];

type Counts = Record<'WebSocket' | 'RTCPeerConnection' | 'SharedWorker' | 'Worker', number>;

/** Counts, in every frame, the constructors that would mean the page connects or runs work. */
function countConstructors(): void {
  const counts: Record<string, number> = {};
  (globalThis as { __nepheleCounts?: Record<string, number> }).__nepheleCounts = counts;
  for (const name of ['WebSocket', 'RTCPeerConnection', 'SharedWorker', 'Worker']) {
    const g = globalThis as unknown as Record<string, unknown>;
    const original = g[name] as (new (...args: unknown[]) => object) | undefined;
    counts[name] = 0;
    if (!original) continue;
    g[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        counts[name] = (counts[name] ?? 0) + 1;
        return Reflect.construct(target, args, newTarget) as object;
      },
    });
  }
}

async function widgetFrame(page: Page, origin = cloudOrigin): Promise<Frame> {
  let found: Frame | undefined;
  await waitUntil(async () => {
    found = page.frames().find((f) => f.url().startsWith(`${origin}/widget.html`));
    return found !== undefined && (await found.locator('#widget').count()) === 1;
  }, 20_000, 'widget frame loaded');
  return found!;
}

const count = async (page: Page, testId: string): Promise<number> => Number(await page.getByTestId(testId).textContent());

const widgetState = (frame: Frame): Promise<string | null> => frame.locator('#widget').getAttribute('data-state');

beforeAll(async () => {
  const cloudUrl = (): string => cloudOrigin;
  allowedSite = await startPartnerSite({ port: 0, cloudOrigin: cloudUrl });
  blockedSite = await startPartnerSite({ port: 0, cloudOrigin: cloudUrl });
  crossSite = await startPartnerSite({ port: 0, cloudOrigin: () => server.url });
  server = await startSignalingServer({
    port: 0, host: '127.0.0.1', staticDir: 'dist', maxConnectionsPerAddress: 256,
    partners: [`http://localhost:${allowedSite.port}`, `http://localhost:${crossSite.port}`],
  });
  cloudOrigin = `http://localhost:${server.port}`;
  browser = await launchChromium();
  portal = await openPeer(browser, `${server.url}/?cloud=${CLOUD}&tick=500`);
  partnerContext = await newPeerContext(browser);
  await partnerContext.addInitScript(countConstructors);
  partnerPage = await partnerContext.newPage();
  partnerPage.on('pageerror', (err) => console.error(`[partner page error] ${err.message}`));
  partnerPage.on('websocket', (ws) => sockets.push(ws));
  partnerPage.on('response', (response) => {
    if (!response.url().startsWith(cloudOrigin)) return;
    void response.body().then((b) => cloudResponses.push({ url: response.url(), bytes: b.length }), () => undefined);
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await allowedSite?.close();
  await blockedSite?.close();
  await crossSite?.close();
});

describe('lending widget on a partner site', () => {
  it('before consent: asks, downloads no peer code, connects nothing, stores nothing', async () => {
    await partnerPage.goto(`http://localhost:${allowedSite.port}/?cloud=${CLOUD}`);
    const frame = await widgetFrame(partnerPage);
    expect(await widgetState(frame)).toBe('asking');
    await waitUntil(async () => (await partnerPage.evaluate(() => document.documentElement.dataset.widgetState)) === 'asking', 10_000, 'partner page heard the status');
    await new Promise((r) => setTimeout(r, 1500));
    const counts = await frame.evaluate(() => (globalThis as { __nepheleCounts?: Counts }).__nepheleCounts);
    expect(counts).toEqual({ WebSocket: 0, RTCPeerConnection: 0, SharedWorker: 0, Worker: 0 });
    expect(sockets).toHaveLength(0);
    const stored = await frame.evaluate(async () => ({
      databases: (await indexedDB.databases()).map((d) => d.name),
      localStorage: localStorage.length,
    }));
    expect(stored).toEqual({ databases: [], localStorage: 0 });
    const urls = cloudResponses.map((r) => r.url);
    expect(urls.some((u) => /lending|browser-sandbox|sharedworker|wasi\.worker/.test(u))).toBe(false);
    const bytes = cloudResponses.reduce((sum, r) => sum + r.bytes, 0);
    console.log(`widget before consent: ${cloudResponses.length} responses, ${bytes} bytes from the cloud (uncompressed)`);
    expect(bytes).toBeLessThan(100_000);
  });

  it('the partner page can neither reach into the frame nor consent for the visitor', async () => {
    const reach = await partnerPage.evaluate(() => {
      const frame = document.querySelector<HTMLIFrameElement>('iframe[data-nephele-widget]')!;
      const attempt = (f: () => unknown): string => {
        try {
          f();
          return 'read';
        } catch (err) {
          return (err as Error).name;
        }
      };
      return {
        document: frame.contentDocument === null ? 'null' : 'readable',
        localStorage: attempt(() => (frame.contentWindow as Window).localStorage.length),
        indexedDB: attempt(() => (frame.contentWindow as Window).indexedDB.databases()),
      };
    });
    expect(reach).toEqual({ document: 'null', localStorage: 'SecurityError', indexedDB: 'SecurityError' });
    await partnerPage.evaluate(() => {
      const target = document.querySelector<HTMLIFrameElement>('iframe[data-nephele-widget]')!.contentWindow!;
      for (const type of ['opt-in', 'start', 'submit-job', 'set-cpu']) target.postMessage({ source: 'nephele-host', v: 1, type, args: { cpu: 100 } }, '*');
      target.postMessage({ type: 'opt-in' }, '*');
      target.postMessage('opt-in', '*');
    });
    const frame = await widgetFrame(partnerPage);
    await waitUntil(async () => Number(await frame.locator('#widget').getAttribute('data-ignored-messages')) >= 6, 5_000, 'forged messages received');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await widgetState(frame)).toBe('asking');
    expect(sockets).toHaveLength(0);
    expect(await frame.evaluate(() => localStorage.length)).toBe(0);
  });

  it("after the visitor's click it joins the cloud and runs a job submitted from the portal", async () => {
    const frame = await widgetFrame(partnerPage);
    // By keyboard: the button takes focus and Enter, and focus then moves to the lending view's status line
    // (the button it was on is hidden).
    await frame.getByTestId('widget-opt-in').focus();
    await partnerPage.keyboard.press('Enter');
    await waitUntil(async () => (await widgetState(frame)) === 'lending', 30_000, 'widget lending');
    expect(await frame.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).toBe('widget-status');
    await waitUntil(async () => (await connectedPeers(portal.page)).length === 1, 45_000, 'portal linked to the widget peer');
    // The counters and the socket listener do see the peer start once the visitor consents.
    const counts = await frame.evaluate(() => (globalThis as { __nepheleCounts?: Counts }).__nepheleCounts);
    expect(counts?.WebSocket).toBeGreaterThanOrEqual(1);
    expect(counts?.RTCPeerConnection).toBeGreaterThanOrEqual(1);
    expect(counts?.SharedWorker).toBe(1);
    expect(sockets.length).toBeGreaterThanOrEqual(1);
    const widgetPeer = await frame.evaluate(() => document.documentElement.dataset.peerId ?? '');
    expect(widgetPeer).toMatch(/^[0-9a-f]{40}$/);
    expect(await connectedPeers(portal.page)).toEqual([widgetPeer]);
    await waitUntil(async () => (await frame.getByTestId('widget-links').textContent())?.trim() === '1', 20_000, 'widget shows its link');

    const page = portal.page;
    await page.getByTestId('example-select').selectOption('hello.wasm');
    await page.getByTestId('job-args').fill('from the portal');
    await page.getByTestId('submit-job').click();
    const job = page.getByTestId('job').first();
    await waitUntil(async () => (await job.getAttribute('data-state')) === 'done', 60_000, 'hello job done');
    expect((await job.getByTestId('job-host').textContent())?.trim()).toBe(widgetPeer);
    expect(await job.getByTestId('job-stdout').textContent()).toContain('from the portal');

    await waitUntil(async () => (await frame.getByTestId('widget-tasks').textContent())?.trim() === '1', 10_000, 'widget counted the task');
    expect(await frame.getByTestId('widget-recent').textContent()).toContain(`for peer ${portal.peerId.slice(0, 8)}`);
    await waitUntil(async () => (await partnerPage.getByTestId('partner-events').textContent())?.includes('tasks run: 1') ?? false, 10_000, 'partner page heard the total');
    expect(await frame.evaluate(() => localStorage.length)).toBe(1);
  });

  it("the widget's credit grows only once the quorum accepted its result", async () => {
    const frame = await widgetFrame(partnerPage);
    const credit = async (): Promise<{ tasks: number; seconds: number }> => ({
      tasks: Number(await frame.getByTestId('widget-accepted-tasks').textContent()),
      seconds: Number.parseFloat((await frame.getByTestId('widget-credit-seconds').textContent()) ?? 'NaN'),
    });
    // The task above ran over a direct link (no quorum): it earned nothing.
    expect(await credit()).toEqual({ tasks: 0, seconds: 0 });
    const ranBefore = Number(await frame.getByTestId('widget-tasks').textContent());

    // A third, plain peer: with two peers only, Cyclon's shuffle hands the single edge back and forth (the
    // initiator drops the peer it shuffles with and gets nothing back), so the portal's view is empty about half
    // the time and empties for good after one lost shuffle; announcements then reach no host.
    // It starts paused, so the widget's result is alone and cannot be accepted (n = k = 2) until it resumes.
    const plain = await openPeer(browser, `${server.url}/?cloud=${CLOUD}&tick=500`);
    try {
      await plain.page.getByTestId('compute-paused').check();
      await plain.page.getByTestId('compute-apply-limits').click();
      await waitUntil(async () => (await plain.page.getByTestId('compute-panel').textContent())?.includes('Now: paused') ?? false, 10_000, 'plain peer paused');
      await waitUntil(async () => (await viewPeers(portal.page)).length >= 1, 30_000, 'portal has a gossip view');

      const page = portal.page;
      await page.getByTestId('compute-module-select').selectOption('hello.wasm');
      await page.getByTestId('compute-tasks').fill('credit check');
      await page.getByTestId('compute-redundancy-n').fill('2');
      await page.getByTestId('compute-quorum-k').fill('2');
      const job = await submitComputeJob(page, 20_000, 'quorum job published');
      await waitUntil(async () => Number(await frame.getByTestId('widget-tasks').textContent()) > ranBefore, 60_000, 'widget ran its copy',
        () => pageDiagnosis(page));
      // One agreeing result is not a quorum: the task is still open and the widget has earned nothing.
      await new Promise((r) => setTimeout(r, 3000));
      expect((await tasksOf(job))[0]?.state).not.toBe('done');
      expect(await job.getAttribute('data-state')).not.toBe('done');
      expect(await credit()).toEqual({ tasks: 0, seconds: 0 });

      await plain.page.getByTestId('compute-paused').uncheck();
      await plain.page.getByTestId('compute-apply-limits').click();
      await waitUntil(async () => (await job.getAttribute('data-state')) === 'done', 60_000, 'quorum reached once the plain peer ran its copy',
        () => pageDiagnosis(page));
      expect((await tasksOf(job))[0]).toMatchObject({ state: 'done', stdout: expect.stringContaining('credit check') });
      await waitUntil(async () => (await credit()).tasks === 1, 20_000, 'widget credited');
      const after = await credit();
      expect(after.seconds).toBeGreaterThan(0);
      // The partner page hears the accepted total too (a status field, nothing more).
      const heard = async (): Promise<number> =>
        Number(/accepted CPU seconds: ([0-9.]+)/.exec((await partnerPage.getByTestId('partner-events').textContent()) ?? '')?.[1] ?? 0);
      await waitUntil(async () => (await heard()) > 0, 10_000, 'partner page heard the accepted credit');
      await waitUntil(async () => (await count(plain.page, 'compute-tasks-accepted')) === 1, 20_000, 'the plain peer credited too');
      expect(await count(portal.page, 'compute-tasks-accepted')).toBe(0);
    } finally {
      await plain.context.close();
    }
  }, 150_000);

  it('"Stop lending" disconnects at once and is remembered', async () => {
    const frame = await widgetFrame(partnerPage);
    await frame.getByTestId('widget-stop').click();
    const reloaded = await widgetFrame(partnerPage);
    await waitUntil(async () => (await widgetState(reloaded)) === 'declined', 15_000, 'widget declined after stop');
    await waitUntil(async () => sockets.every((ws) => ws.isClosed()), 10_000, 'WebSockets closed');
    await waitUntil(async () => (await numberOf(portal.page, 'connection-count')) === 0, 30_000, 'portal lost its link to the widget');
    expect(await reloaded.evaluate(() => (globalThis as { __nepheleCounts?: Counts }).__nepheleCounts))
      .toEqual({ WebSocket: 0, RTCPeerConnection: 0, SharedWorker: 0, Worker: 0 });
    await waitUntil(async () => (await partnerPage.evaluate(() => document.documentElement.dataset.widgetState)) === 'declined', 10_000, 'partner heard opted out');

    const before = sockets.length;
    await partnerPage.reload();
    const again = await widgetFrame(partnerPage);
    await waitUntil(async () => (await widgetState(again)) === 'declined', 10_000, 'choice remembered after reload');
    await new Promise((r) => setTimeout(r, 1000));
    expect(sockets.length).toBe(before);
  });

  it('where the browser blocks storage in cross-site frames, it explains, links to the cloud and starts nothing', async () => {
    const context = await newPeerContext(browser);
    await context.addInitScript(countConstructors);
    const page = await context.newPage();
    await page.goto(`${crossSite.url.replace('127.0.0.1', 'localhost')}/?cloud=${CLOUD}`);
    const frame = await widgetFrame(page, server.url);
    await waitUntil(async () => (await widgetState(frame)) === 'error', 10_000, 'widget refuses');
    expect(await frame.getByTestId('widget-error').textContent()).toContain('E_STORAGE_BLOCKED');
    expect(await frame.getByTestId('widget-opt-in').isDisabled()).toBe(true);
    expect(await frame.locator('[data-cloud-link]').getAttribute('href')).toBe(`${server.url}/?cloud=${CLOUD}`);
    expect(await frame.evaluate(() => (globalThis as { __nepheleCounts?: Counts }).__nepheleCounts))
      .toEqual({ WebSocket: 0, RTCPeerConnection: 0, SharedWorker: 0, Worker: 0 });
    await waitUntil(async () => (await page.evaluate(() => document.documentElement.dataset.widgetState)) === 'error', 10_000, 'partner heard');
    await context.close();
  });

  it('a site not on the allow-list cannot frame the widget', async () => {
    const context = await newPeerContext(browser);
    const page = await context.newPage();
    const refusals: string[] = [];
    page.on('console', (m) => { if (m.text().includes('frame-ancestors')) refusals.push(m.text()); });
    await page.goto(`${blockedSite.url.replace('127.0.0.1', 'localhost')}/?cloud=${CLOUD}`);
    await waitUntil(async () => (await page.locator('iframe[data-nephele-widget]').count()) === 1, 10_000, 'iframe inserted');
    await new Promise((r) => setTimeout(r, 2500));
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      expect(await f.locator('#widget').count().catch(() => 0)).toBe(0);
    }
    expect(await page.evaluate(() => document.documentElement.dataset.widgetState)).toBeUndefined();
    console.log(`blocked framing: ${refusals[0] ?? '(no console message)'}`);
    await context.close();
  });
});
