/**
 * Compute jobs on an allocated slice, with input files, in real Chromium (issue #5: "optionally runs on an
 * allocated slice"; the portal's job form with inputs). Five browser peers join one cloud; the first allocates a
 * 2-peer slice, then publishes from its compute form a wc.wasm job naming that slice with a text input file
 * chosen in the file picker. Every task runs on a slice member (the others run nothing), reads the file, and the
 * job list shows the slice and the file. A file above the inline limit is refused at once with
 * E_INPUT_FILE_TOO_LARGE, and a slice this node does not know fails with E_UNKNOWN_SLICE. Then the members pause,
 * a second job on the slice waits, and the slice is released: that job fails with E_SLICE_GONE naming the slice,
 * shown on every task like other failures.
 *
 * Commands and snapshots go to a page's node the way cloud.test.ts does it: through another comlink port to the
 * page's SharedWorker.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPeer, waitUntil, useCloudAndBrowser, type PeerTab } from './harness.ts';
import { submitComputeJob, tasksOf } from './compute-page.ts';
import type { CloudSliceInfo, CloudSnapshot } from '../../src/runtime/services/cloud-types.ts';
import type { ComputeSnapshot, ComputeTaskResult } from '../../src/runtime/services/compute-types.ts';
import { nodeCommand, nodeServices } from './node-port.ts';

const PEERS = 5;
const CLOUD = 'slicejobs';

const env = useCloudAndBrowser();

async function command(page: Page, service: string, name: string, args: unknown): Promise<unknown> {
  return nodeCommand(page, CLOUD, service, name, args);
}

async function services(page: Page): Promise<{ cloud: CloudSnapshot; compute: ComputeSnapshot }> {
  return (await nodeServices(page, CLOUD)) as unknown as { cloud: CloudSnapshot; compute: ComputeSnapshot };
}

describe('compute jobs on a slice, from the portal form', () => {
  it('runs a job with an input file only on the slice members, and names its errors', async () => {
    const url = `${env.server.url}/?cloud=${CLOUD}&tick=300`;
    const peers: PeerTab[] = await Promise.all(Array.from({ length: PEERS }, () => openPeer(env.browser, url)));
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

    // A job that waits on the slice (its members paused) fails once the slice is released.
    for (const m of members) await command(m.page, 'compute', 'setLimits', { maxConcurrent: 2, cpuCapPercent: 100, paused: true });
    const waiting = await submitComputeJob(first, 20_000, 'waiting job published');
    expect(await waiting.getAttribute('data-state')).toBe('pending');
    await command(first, 'cloud', 'releaseSlice', { slice: 'pair' });
    await waitUntil(async () => (await waiting.getAttribute('data-state')) === 'failed', 30_000, 'the waiting job fails');
    const failed = await tasksOf(waiting);
    expect(failed).toHaveLength(4);
    for (const t of failed) {
      expect(t.state).toBe('failed');
      expect(t.error).toMatch(/^E_SLICE_GONE: slice pair /);
    }
    expect(await waiting.getByTestId('compute-count-failed').textContent()).toBe('4');
  }, 150_000);
});
