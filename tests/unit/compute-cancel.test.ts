/**
 * Cancel kills running sandboxes: the generic worker lifecycle terminates its worker on a cancel by run id
 * (and on every other end), a Node sandbox running an endless guest returns E_CANCELLED at once when
 * cancelled, and in the live compute service a cancelled job's running copies on hosts are killed within
 * moments, not left to their time limit.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeCore } from '../../src/runtime/node-core.ts';
import { runWasiTaskInNode } from '../../src/compute/node-sandbox.ts';
import { cancelSandboxRun, liveSandboxRuns } from '../../src/compute/sandbox-cancel.ts';
import { superviseWorkerTask, type WorkerChannel, type WorkerReply } from '../../src/compute/worker-task-host.ts';
import { computeService } from '../../src/runtime/services/compute-service.ts';
import type { ComputeSnapshot } from '../../src/runtime/services/compute-types.ts';
import { meshCloud, stopNetworks, waitFor } from './support/core-network.ts';

const loop = new Uint8Array(readFileSync('public/examples/loop.wasm'));

afterEach(stopNetworks);

/** A stand-in worker whose replies the test drives (pure lifecycle logic only). */
function fakeWorker(): { channel: WorkerChannel<string>; reply: (r: WorkerReply<string>) => void; fail: (m: string) => void; terminated: () => number } {
  let onReply: (r: WorkerReply<string>) => void = () => {};
  let onFailure: (f: { message: string; outOfMemory: boolean }) => void = () => {};
  let terminated = 0;
  return {
    channel: { onReply: (l) => { onReply = l; }, onFailure: (l) => { onFailure = l; }, terminate: () => { terminated++; } },
    reply: (r) => onReply(r),
    fail: (m) => onFailure({ message: m, outOfMemory: false }),
    terminated: () => terminated,
  };
}

const policy = (runId?: string) => ({
  startupTimeoutMs: 5_000, killAfterMs: 5_000, runId,
  notStarted: () => 'not-started', timedOut: () => 'timed-out', failed: (f: { message: string }) => `failed: ${f.message}`, cancelled: () => 'cancelled',
});

describe('worker task host', () => {
  it('a cancel by run id ends the task and terminates the worker; the run is unlisted', async () => {
    const w = fakeWorker();
    const result = superviseWorkerTask(w.channel, policy('run-a'));
    w.reply({ type: 'started' });
    expect(liveSandboxRuns()).toContain('run-a');
    expect(cancelSandboxRun('run-a')).toBe(true);
    expect(await result).toBe('cancelled');
    expect(w.terminated()).toBe(1);
    expect(liveSandboxRuns()).not.toContain('run-a');
    expect(cancelSandboxRun('run-a')).toBe(false);
    w.reply({ type: 'result', result: 'late' }); // ignored
    expect(w.terminated()).toBe(1);
  });

  it('a result or a crash terminates the worker and unlists the run', async () => {
    const ok = fakeWorker();
    const r1 = superviseWorkerTask(ok.channel, policy('run-b'));
    ok.reply({ type: 'started' });
    ok.reply({ type: 'result', result: 'done' });
    expect(await r1).toBe('done');
    expect(ok.terminated()).toBe(1);
    const bad = fakeWorker();
    const r2 = superviseWorkerTask(bad.channel, policy('run-c'));
    bad.fail('boom');
    expect(await r2).toBe('failed: boom');
    expect(bad.terminated()).toBe(1);
    expect(liveSandboxRuns()).toEqual([]);
  });

  it('a worker kept for reuse is kept only after a proper result', async () => {
    let kept = 0;
    const ok = fakeWorker();
    const r1 = superviseWorkerTask(ok.channel, { ...policy(), keep: () => { kept++; } });
    ok.reply({ type: 'started' });
    ok.reply({ type: 'result', result: 'done' });
    expect(await r1).toBe('done');
    expect([kept, ok.terminated()]).toEqual([1, 0]);
    const slow = fakeWorker();
    const r2 = superviseWorkerTask(slow.channel, { ...policy('run-d'), killAfterMs: 30, keep: () => { kept++; } });
    slow.reply({ type: 'started' });
    expect(await r2).toBe('timed-out');
    expect([kept, slow.terminated()]).toEqual([1, 1]);
    const cancelled = fakeWorker();
    const r3 = superviseWorkerTask(cancelled.channel, { ...policy('run-e'), keep: () => { kept++; } });
    cancelled.reply({ type: 'started' });
    cancelSandboxRun('run-e');
    expect(await r3).toBe('cancelled');
    expect([kept, cancelled.terminated()]).toEqual([1, 1]);
  });

  it('kills at the time limit counted from started', async () => {
    const w = fakeWorker();
    const result = superviseWorkerTask(w.channel, { ...policy(), killAfterMs: 50 });
    w.reply({ type: 'started' });
    expect(await result).toBe('timed-out');
    expect(w.terminated()).toBe(1);
  });
});

describe('cancelling a Node sandbox run', () => {
  it('an endless guest is killed at once with E_CANCELLED', async () => {
    const t0 = performance.now();
    const result = runWasiTaskInNode({ args: [], env: {}, stdin: '', timeLimitMs: 60_000, memoryLimitMiB: 16, runId: 'endless-1' }, loop);
    await waitFor(() => liveSandboxRuns().includes('endless-1'), 5_000, 'run listed');
    await new Promise((r) => setTimeout(r, 300));
    expect(cancelSandboxRun('endless-1')).toBe(true);
    const r = await result;
    expect(r.ok ? 'ok' : r.code).toBe('E_CANCELLED');
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(liveSandboxRuns()).not.toContain('endless-1');
  });
});

describe('cancel in the compute service', () => {
  it("a cancelled job's running copies are killed on their hosts", async () => {
    const cancels: string[] = [];
    const runner = {
      run: runWasiTaskInNode,
      cancel: (runId: string) => { cancels.push(runId); return cancelSandboxRun(runId); },
    };
    const [submitter, ...hosts] = await meshCloud(Array.from({ length: 3 }, () => ({ tickMs: 100, services: [computeService()], runner: () => runner })));
    const compute = (core: NodeCore): ComputeSnapshot => core.snapshot().services.compute as ComputeSnapshot;
    const spec = { name: 'endless', tasks: [0, 1].map((i) => ({ args: [String(i)], env: {}, stdin: '' })), timeLimitMs: 120_000 };
    const { jobId } = (await submitter!.command('compute', 'submit', { spec, image: loop })) as { jobId: string };
    await waitFor(() => liveSandboxRuns().length === 2, 30_000, 'two endless copies running in sandboxes');
    const running = hosts.flatMap((h) => compute(h).hosting).filter((r) => r.phase === 'running');
    expect(running).toHaveLength(2);

    const t0 = performance.now();
    await submitter!.command('compute', 'cancel', { jobId });
    await waitFor(() => liveSandboxRuns().length === 0, 10_000, 'sandboxes killed');
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(cancels.sort()).toEqual(running.map((r) => r.key).sort());
    await waitFor(() => hosts.every((h) => compute(h).hosting.length === 0), 10_000, 'hosts show nothing running');
    expect(compute(submitter!).jobs[0]?.state).toBe('cancelled');
  }, 60_000);
});
