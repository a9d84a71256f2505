/**
 * A batch through one reusable sandbox worker (compute/worker-batch-host.ts): every request is posted up front,
 * each task is still supervised on its own (kill at its limit, cancel by run id), a task that ends its worker
 * sends the tasks queued behind it to a fresh worker, and the worker is parked only after the last task answered.
 */
import { describe, expect, it } from 'vitest';
import { runBatchInOneWorker, type BatchWorker } from '../../src/compute/worker-batch-host.ts';
import { cancelSandboxRun } from '../../src/compute/sandbox-cancel.ts';
import type { WorkerReply } from '../../src/compute/worker-task-host.ts';

/** Fake workers that run their queue like wasi-reuse.worker.ts: `started`, then the task's answer, in order. */
function fakeWorkers(answer: (index: number) => string | 'hang') {
  const log: string[] = [];
  let opened = 0;
  const open = (): BatchWorker<string> => {
    const id = opened++;
    let onReply: (r: WorkerReply<string>) => void = () => {};
    let dead = false;
    const queue: number[] = [];
    const step = (): void => {
      const index = queue.shift();
      if (index === undefined || dead) return;
      setTimeout(() => {
        if (dead) return;
        onReply({ type: 'started' });
        const a = answer(index);
        if (a === 'hang') return;
        setTimeout(() => {
          if (dead) return;
          onReply({ type: 'result', result: a });
          step();
        }, 1);
      }, 1);
    };
    return {
      channel: { onReply: (l) => { onReply = l; }, onFailure: () => {}, terminate: () => { dead = true; log.push(`terminate w${id}`); } },
      send: (indices) => { log.push(`w${id} <- ${indices.join(',')}`); queue.push(...indices); step(); },
      park: () => log.push(`park w${id}`),
    };
  };
  return { open, log };
}

const policy = (index: number, killAfterMs = 5_000) => ({
  startupTimeoutMs: 5_000, killAfterMs, runId: `run-${index}`,
  notStarted: () => 'not-started', timedOut: () => `timed-out ${index}`, failed: () => 'failed', cancelled: () => `cancelled ${index}`,
});

describe('a batch in one reused worker', () => {
  it('posts every request at once, answers in order and parks the worker after the last', async () => {
    const w = fakeWorkers((i) => `ok ${i}`);
    const results = await runBatchInOneWorker(4, w.open, (i) => policy(i), () => 'no worker');
    expect(results).toEqual(['ok 0', 'ok 1', 'ok 2', 'ok 3']);
    expect(w.log).toEqual(['w0 <- 0,1,2,3', 'park w0']);
  });

  it('a task killed at its limit takes its worker; the tasks behind it go to a fresh worker', async () => {
    const w = fakeWorkers((i) => (i === 1 ? 'hang' : `ok ${i}`));
    const results = await runBatchInOneWorker(4, w.open, (i) => policy(i, 40), () => 'no worker');
    expect(results).toEqual(['ok 0', 'timed-out 1', 'ok 2', 'ok 3']);
    expect(w.log).toEqual(['w0 <- 0,1,2,3', 'terminate w0', 'w1 <- 2,3', 'park w1']);
  });

  it('a task cancelled by run id ends at once and the rest still run', async () => {
    const w = fakeWorkers((i) => (i === 0 ? 'hang' : `ok ${i}`));
    const running = runBatchInOneWorker(3, w.open, (i) => policy(i), () => 'no worker');
    await new Promise((r) => setTimeout(r, 20));
    expect(cancelSandboxRun('run-0')).toBe(true);
    expect(await running).toEqual(['cancelled 0', 'ok 1', 'ok 2']);
    expect(w.log).toEqual(['w0 <- 0,1,2', 'terminate w0', 'w1 <- 1,2', 'park w1']);
  });

  it('a worker that cannot start fails that task only', async () => {
    const w = fakeWorkers((i) => `ok ${i}`);
    let tries = 0;
    const results = await runBatchInOneWorker(3, () => (tries++ === 0 ? null : w.open()), (i) => policy(i), (i) => `no worker ${i}`);
    expect(results).toEqual(['no worker 0', 'ok 1', 'ok 2']);
    expect(w.log).toEqual(['w0 <- 1,2', 'park w0']);
  });
});
