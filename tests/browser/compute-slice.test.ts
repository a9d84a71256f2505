/**
 * Compute jobs on an allocated slice, with input files, in real Chromium (issue #5: "optionally runs on an
 * allocated slice"; the portal's job form with inputs). Five browser peers join one cloud; the first allocates a
 * 2-peer slice, then publishes from its compute form a wc.wasm job naming that slice with a text input file
 * chosen in the file picker. Every task runs on a slice member (the others run nothing), reads the file, and the
 * job list shows the slice and the file. A file above the inline limit is refused at once with
 * E_INPUT_FILE_TOO_LARGE, and a slice this node does not know fails with E_UNKNOWN_SLICE.
 *
 * Commands and snapshots go to a page's node the way cloud.test.ts does it: through another comlink port to the
 * page's SharedWorker.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPeer, startCloudServer, waitUntil, type CloudServer, type PeerTab } from './harness.ts';
import { submitComputeJob, tasksOf } from './compute-page.ts';
import type { CloudSliceInfo, CloudSnapshot } from '../../src/runtime/services/cloud-types.ts';
import type { ComputeSnapshot, ComputeTaskResult } from '../../src/runtime/services/compute-types.ts';

const PEERS = 5;
const CLOUD = 'slicejobs';

let server: CloudServer;
let browser: Browser;

beforeAll(async () => {
  server = await startCloudServer();
  browser = await launchChromium();
});

afterAll(async () => {
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

async function command(page: Page, service: string, name: string, args: unknown): Promise<unknown> {
  const reply = await call(page, 'command', [service, name, args]);
  if (!reply.ok) throw new Error(reply.error);
  return reply.value;
}

async function services(page: Page): Promise<{ cloud: CloudSnapshot; compute: ComputeSnapshot }> {
  const reply = await call(page, 'snapshot', []);
  if (!reply.ok) throw new Error(reply.error);
  return (reply.value as { services: { cloud: CloudSnapshot; compute: ComputeSnapshot } }).services;
}

describe('compute jobs on a slice, from the portal form', () => {
  it('runs a job with an input file only on the slice members, and names its errors', async () => {
    const url = `${server.url}/?cloud=${CLOUD}&tick=300`;
    const peers: PeerTab[] = await Promise.all(Array.from({ length: PEERS }, () => openPeer(browser, url)));
    const first = peers[0]!.page;
    await waitUntil(async () => (await services(first)).cloud.knownPeers >= PEERS - 1, 45_000, 'the first node knows every peer');

    const slice = (await command(first, 'cloud', 'runInstances', {
      slice: 'pair', query: { kind: 'top-count', n: 2, attribute: 'cpuScore' },
    })) as CloudSliceInfo;
    expect(slice.members).toHaveLength(2);
    const members = peers.filter((p) => slice.members.includes(p.peerId));
    // Hosts learn their membership (and advertise it) before they may pull the slice's tasks.
    await waitUntil(async () => {
      for (const m of members) if ((await services(m.page)).cloud.membership?.slice !== 'pair') return false;
      return true;
    }, 20_000, 'members know their slice');

    // The job form: wc.wasm over an input file, four tasks, on slice "pair".
    await first.getByTestId('compute-module-select').selectOption('wc.wasm');
    await first.getByTestId('compute-tasks').fill('input.txt\ninput.txt\ninput.txt\ninput.txt');
    await first.getByTestId('compute-time-limit').fill('20');

    // Above the inline limit: refused as soon as it is chosen.
    await first.getByTestId('compute-input-files').setInputFiles({ name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(40 * 1024, 'x') });
    await waitUntil(async () => /^E_INPUT_FILE_TOO_LARGE: big\.txt/.test((await first.getByTestId('compute-files-error').textContent()) ?? ''),
      5_000, 'the size error shows');

    await first.getByTestId('compute-input-files').setInputFiles({ name: 'input.txt', mimeType: 'text/plain', buffer: Buffer.from('one two\nthree\n') });
    await waitUntil(async () => (await first.getByTestId('compute-files-error').count()) === 0, 5_000, 'the size error clears');

    // A slice this node does not know.
    await first.getByTestId('compute-slice').fill('nowhere');
    await first.getByTestId('compute-submit').click();
    await waitUntil(async () => /^E_UNKNOWN_SLICE/.test((await first.getByTestId('compute-error').textContent()) ?? ''), 10_000, 'E_UNKNOWN_SLICE shown');

    await first.getByTestId('compute-slice').fill('pair');
    const job = await submitComputeJob(first, 20_000, 'slice job published');
    await waitUntil(async () => (await job.getAttribute('data-state')) === 'done', 60_000, 'slice job done');
    const tasks = await tasksOf(job);
    expect(tasks).toHaveLength(4);
    for (const t of tasks) expect(t.stdout.trim()).toBe('2 3 14 input.txt');
    expect(await job.getByTestId('compute-job-slice').textContent()).toBe('pair');
    expect(await job.getByTestId('compute-job-files').textContent()).toContain('input.txt');

    const jobId = (await job.getAttribute('data-job-id'))!;
    const results = (await command(first, 'compute', 'results', { jobId })) as ComputeTaskResult[];
    for (const r of results) for (const host of r.agreeing) expect(slice.members).toContain(host);
    for (const p of peers.slice(1)) {
      if (slice.members.includes(p.peerId)) continue;
      expect((await services(p.page)).compute.stats.ran).toBe(0);
    }
  }, 90_000);
});
