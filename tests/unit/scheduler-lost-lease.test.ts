/**
 * A copy lost by its host (lease expired, host down) before it voted: the task is handed out again, to that same
 * host too. Before, a host that had held a copy never got the task again, so a cloud whose only capable host lost
 * one copy never finished the job (a likely cause of a one-host x86 unit test that timed out once in CI).
 */
import { describe, expect, it } from 'vitest';
import { parseJobSpec, type JobSpec } from '../../src/protocols/scheduler/job-model.ts';
import { SubmitterBook } from '../../src/protocols/scheduler/submitter.ts';
import type { HostCapabilities } from '../../src/protocols/scheduler/host-match.ts';
import type { Outgoing } from '../../src/protocols/scheduler/types.ts';
import type { LeaseMessage, ResultMessage } from '../../src/wire/scheduler.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const CAPS: HostCapabilities = { cores: 4, ramMB: 4096, gpuMemoryMB: 0, diskMB: 10_000, kinds: ['wasi'] };
const [HOST, OTHER] = [id(2), id(3)];
const JOB = 'job-lost-lease-01';

function job(n: number, k: number): JobSpec {
  const parsed = parseJobSpec({
    image: { kind: 'wasi', sha256: 'ab'.repeat(32), size: 100 }, timeLimitMs: 1_000, redundancy: { n, k },
    tasks: [{ args: ['x'], env: {}, stdin: '' }],
  });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

const leaseOf = (out: Outgoing[]): LeaseMessage | undefined => out.find((o) => o.msg.t === 'lease')?.msg as LeaseMessage | undefined;
const result = (lease: LeaseMessage, digest: string): ResultMessage => ({
  v: lease.v, t: 'result', jobId: lease.jobId, lease: lease.lease, digest, ok: true, exitCode: 0, code: null,
  stdout: digest, stderr: '', durationMs: 1,
});

describe('a copy lost before its host voted', () => {
  it('goes back to the only host after its lease expired, and the job completes', () => {
    const book = new SubmitterBook({ leaseGraceMs: 1_000, maxLeaseLosses: 3 });
    book.add(JOB, job(1, 1), 0);
    const first = leaseOf(book.onPull(0, HOST, JOB, 1, CAPS))!;
    expect(book.expire(2_000).map((o) => o.msg.t)).toEqual(['revoke']);
    const again = leaseOf(book.onPull(2_100, HOST, JOB, 1, CAPS));
    expect(again?.task).toBe(first.task);
    book.onResult(HOST, result(again!, 'good'));
    expect(book.jobs.get(JOB)!.status).toBe('completed');
  });

  it('in a voted job, a host that already voted on the task never gets it again', () => {
    const book = new SubmitterBook({ leaseGraceMs: 1_000, maxLeaseLosses: 3 });
    book.add(JOB, job(3, 2), 0);
    const mine = leaseOf(book.onPull(0, HOST, JOB, 1, CAPS))!;
    const theirs = leaseOf(book.onPull(0, OTHER, JOB, 1, CAPS))!;
    book.onResult(HOST, result(mine, 'a'));
    book.onResult(OTHER, result(theirs, 'b')); // disagree: more copies wanted
    book.onPeerDown(OTHER);
    expect(leaseOf(book.onPull(10, HOST, JOB, 1, CAPS))).toBeUndefined();
  });
});
