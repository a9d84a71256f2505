/** How scheduler progress and decided outcomes become the compute panel's job and task states. */
import { describe, expect, it } from 'vitest';
import { jobView, taskResults, type JobRecord } from '../../src/runtime/services/compute-views.ts';
import type { JobProgress, TaskOutcome, TaskProgress } from '../../src/protocols/scheduler/types.ts';

const H = 'h'.repeat(40);
const record = (outcomes: TaskOutcome[] = []): JobRecord => ({
  jobId: '0123456789abcdef', name: 'hello.wasm', submittedAt: 1, images: ['a'.repeat(64)], redundancy: { n: 1, k: 1 },
  outcomes: new Map(outcomes.map((o) => [o.task, o])),
});
const progress = (status: JobProgress['status'], total: number): JobProgress => ({
  jobId: '0123456789abcdef', status, total, pending: 0, running: 0, accepted: 0, failed: 0, cancelled: 0, leasesOut: 0, hosts: 0, suspects: [],
});
const task = (i: number, state: TaskProgress['state'], error: string | null = null): TaskProgress => ({
  task: i, state, votes: 0, copiesOut: 0, losses: 0, digest: null, error,
});
const outcome = (i: number, ok: boolean, code: string | null = null): TaskOutcome => ({
  jobId: '0123456789abcdef', task: i, status: 'accepted', digest: 'd', error: null, agreeing: [H], suspects: [],
  result: { ok, exitCode: ok ? 0 : null, code, stdout: `out ${i}`, stderr: '', durationMs: 3 },
});

describe('compute views', () => {
  it('a running job with nothing started is pending; with work out or done, running', () => {
    expect(jobView(record(), progress('running', 2), [task(0, 'pending'), task(1, 'pending')]).state).toBe('pending');
    expect(jobView(record(), progress('running', 2), [task(0, 'running'), task(1, 'pending')]).state).toBe('running');
  });

  it('an accepted guest failure is a failed task with its code, and fails the job', () => {
    const v = jobView(record([outcome(0, true), outcome(1, false, 'E_TIME_LIMIT')]), progress('completed', 2), [task(0, 'accepted'), task(1, 'accepted')]);
    expect(v.state).toBe('failed');
    expect([v.done, v.failed]).toEqual([1, 1]);
    expect(v.tasks[0]).toMatchObject({ state: 'done', stdout: 'out 0', exitCode: 0, error: null });
    expect(v.tasks[1]).toMatchObject({ state: 'failed', error: 'E_TIME_LIMIT' });
  });

  it('a completed job with only good results is done; scheduler failures carry their code', () => {
    expect(jobView(record([outcome(0, true)]), progress('completed', 1), [task(0, 'accepted')]).state).toBe('done');
    const lost = jobView(record(), progress('failed', 1), [task(0, 'failed', 'E_NO_QUORUM')]);
    expect(lost.state).toBe('failed');
    expect(lost.tasks[0]!.error).toBe('E_NO_QUORUM');
    expect(jobView(record(), progress('cancelled', 1), [task(0, 'cancelled')]).state).toBe('cancelled');
  });

  it('results list every task with its agreed result or status', () => {
    const r = taskResults(record([outcome(0, true)]), [task(0, 'accepted'), task(1, 'running')]);
    expect(r[0]).toMatchObject({ status: 'accepted', ok: true, stdout: 'out 0', agreeing: [H] });
    expect(r[1]).toMatchObject({ status: 'pending', ok: null, stdout: '' });
  });
});
