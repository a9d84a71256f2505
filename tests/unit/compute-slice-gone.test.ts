/**
 * A job on a slice that goes away fails instead of waiting forever (issue #5, jobs on an allocated slice):
 * the pure liveness rule (SliceLiveness), the SliceWatch that applies it to the cloud's answers, and real NodeCores (cloud + compute services over the in-memory
 * network) where a job waits on a slice whose members are paused and the slice is released, or loses all its
 * members: the job and every unfinished task fail with E_SLICE_GONE and a message naming the slice.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { NepheleError } from '../../src/core/errors.ts';
import type { PeerId } from '../../src/core/ids.ts';
import type { NodeCore } from '../../src/runtime/node-core.ts';
import {
  SLICE_GONE_AFTER_MS, SliceLiveness, SliceWatch, sliceGoneError,
} from '../../src/runtime/services/compute-slices.ts';
import type { CloudSliceInfo } from '../../src/runtime/services/cloud-types.ts';
import type { ComputeTaskResult } from '../../src/runtime/services/compute-types.ts';
import { stopNetworks, waitFor } from './support/core-network.ts';
import { allocateFastest, cloudOf, compute, sliceComputeCloud as cloud } from './support/slice-compute-cloud.ts';

describe('SliceLiveness', () => {
  it('declares a slice gone only after two or more empty answers spanning SLICE_GONE_AFTER_MS', () => {
    const l = new SliceLiveness();
    expect(l.observe('s', 0, 0)).toBe(false);
    expect(l.observe('s', 0, SLICE_GONE_AFTER_MS - 1)).toBe(false);
    expect(l.observe('s', 0, SLICE_GONE_AFTER_MS)).toBe(true);
    // One late answer alone is not enough: the first empty answer starts the clock.
    const late = new SliceLiveness();
    expect(late.observe('s', 0, 10 * SLICE_GONE_AFTER_MS)).toBe(false);
    expect(late.observe('s', 0, 11 * SLICE_GONE_AFTER_MS)).toBe(true);
  });

  it('starts over when an answer names a member, and keeps slices apart', () => {
    const l = new SliceLiveness();
    l.observe('a', 0, 0);
    l.observe('b', 0, 0);
    expect(l.observe('a', 2, 1000)).toBe(false);
    expect(l.observe('a', 0, SLICE_GONE_AFTER_MS + 500)).toBe(false);
    expect(l.observe('b', 0, SLICE_GONE_AFTER_MS + 500)).toBe(true);
    expect(l.observe('a', 0, 2 * SLICE_GONE_AFTER_MS + 500)).toBe(true);
  });

  it('forgets slices no longer in use', () => {
    const l = new SliceLiveness();
    l.observe('a', 0, 0);
    l.retain([]);
    expect(l.observe('a', 0, SLICE_GONE_AFTER_MS)).toBe(false);
  });
});

/** A SliceWatch over a scripted cloud: `slices` maps a slice to its members (absent: E_UNKNOWN_SLICE). */
function scriptedWatch(active: string[]) {
  const state = { now: 0, asked: 0, gone: [] as [string, string][], members: [] as [string, readonly PeerId[]][] };
  const slices = new Map<string, PeerId[]>();
  const watch = new SliceWatch({
    now: () => state.now,
    log: () => undefined,
    command: async (_service, _command, args) => {
      state.asked++;
      const slice = (args as { slice?: string }).slice;
      if (slice === undefined) return null;
      const members = slices.get(slice);
      if (!members) throw new NepheleError('E_UNKNOWN_SLICE', `no slice named ${slice} is known here`);
      return { slice, owner: null, members };
    },
  }, {
    hostSlice: () => undefined,
    members: (slice, members) => state.members.push([slice, members]),
    activeSlices: () => active,
    gone: (slice, error) => state.gone.push([slice, error]),
  });
  /** Ticks every 50 ms for `ms`, letting the scripted answers settle after each tick. */
  const run = async (ms: number): Promise<void> => {
    for (const end = state.now + ms; state.now < end; state.now += 50) {
      watch.tick();
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  return { watch, state, slices, run };
}

/** A span of ticks long enough for a few rounds of questions and answers. */
const POLL_SPAN_MS = 1_000;

describe('SliceWatch', () => {
  const member = 'a'.repeat(40) as PeerId;

  it('asks the cloud each tick about its own membership and each active slice', async () => {
    const { state, slices, run } = scriptedWatch(['work']);
    slices.set('work', [member]);
    await run(1_000);
    // Two questions per tick (own membership, the active slice), a tick every 50 ms.
    expect(state.asked).toBe(2 * 20);
    expect(state.members).toEqual([['work', [member]]]);
    expect(state.gone).toEqual([]);
  });

  it('reports a slice gone, once, when it stays unknown; a slice that comes back in time is not', async () => {
    const { state, slices, run } = scriptedWatch(['work', 'blip']);
    slices.set('work', [member]);
    slices.set('blip', [member]);
    await run(2 * POLL_SPAN_MS);
    slices.delete('work');
    slices.delete('blip');
    await run(POLL_SPAN_MS);
    slices.set('blip', [member]); // back before SLICE_GONE_AFTER_MS
    await run(SLICE_GONE_AFTER_MS + 2 * POLL_SPAN_MS);
    expect(state.gone).toEqual([['work', sliceGoneError('work')]]);
    expect(sliceGoneError('work')).toMatch(/^E_SLICE_GONE: slice work /);
  });
});

const hello = new Uint8Array(readFileSync('public/examples/hello.wasm'));

afterEach(stopNetworks);


/** A 2-member slice whose members are paused, and a 3-task job on it that can only wait. */
async function waitingJob(cores: NodeCore[]): Promise<{ slice: CloudSliceInfo; jobId: string }> {
  const owner = cores[0]!;
  const slice = await allocateFastest(cores, 'doomed', 2);
  const members = cores.filter((c) => slice.members.includes(c.peerId));
  for (const c of members) await c.command('compute', 'setLimits', { maxConcurrent: 2, cpuCapPercent: 100, paused: true });
  const tasks = Array.from({ length: 3 }, (_, i) => ({ args: ['t', String(i)], env: {}, stdin: '' }));
  const { jobId } = (await owner.command('compute', 'submit', {
    spec: { name: 'waits', tasks, timeLimitMs: 10_000, slice: 'doomed' }, image: hello,
  })) as { jobId: string };
  return { slice, jobId };
}

async function expectSliceGone(owner: NodeCore, jobId: string): Promise<void> {
  await waitFor(() => compute(owner).jobs[0]?.state === 'failed', 20_000, 'the job fails');
  const view = compute(owner).jobs[0]!;
  expect(view.failed).toBe(3);
  for (const t of view.tasks) {
    expect(t.state).toBe('failed');
    expect(t.error).toBe(sliceGoneError('doomed'));
  }
  const results = (await owner.command('compute', 'results', { jobId })) as ComputeTaskResult[];
  expect(results.map((r) => [r.status, r.error])).toEqual(Array(3).fill(['failed', sliceGoneError('doomed')]));
}

describe('a job on a slice that goes away (NodeCores)', () => {
  it('fails with E_SLICE_GONE when the slice is released while the job waits', async () => {
    const cores = await cloud(4);
    const owner = cores[0]!;
    const { jobId } = await waitingJob(cores);
    // It really waits: a few polls later nothing ran and it is still pending.
    await new Promise((r) => setTimeout(r, 2 * POLL_SPAN_MS));
    expect(compute(owner).jobs[0]!.state).toBe('pending');
    await owner.command('cloud', 'releaseSlice', { slice: 'doomed' });
    await expectSliceGone(owner, jobId);
    expect(cores.reduce((n, c) => n + compute(c).stats.ran, 0)).toBe(0);
  }, 45_000);

  it('fails with E_SLICE_GONE when every member leaves the slice', async () => {
    const cores = await cloud(4);
    const owner = cores[0]!;
    const { slice, jobId } = await waitingJob(cores);
    await owner.command('cloud', 'terminateInstances', { slice: 'doomed', peers: [...slice.members] });
    await expectSliceGone(owner, jobId);
  }, 45_000);
});
