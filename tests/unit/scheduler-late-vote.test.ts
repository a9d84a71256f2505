/**
 * A voted task (k-of-n) is decided as soon as k results agree. The copies still out are not revoked but checked
 * when they answer: a lying host whose result came last was not named before (the 2-of-3 browser test failed
 * when the liar answered third, and again when its copies were revoked before it could answer).
 */
import { describe, expect, it } from 'vitest';
import { parseJobSpec, type JobSpec } from '../../src/protocols/scheduler/job-model.ts';
import { SubmitterBook } from '../../src/protocols/scheduler/submitter.ts';
import type { HostCapabilities } from '../../src/protocols/scheduler/host-match.ts';
import type { Outgoing } from '../../src/protocols/scheduler/types.ts';
import type { LeaseMessage, ResultMessage } from '../../src/wire/scheduler.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const CAPS: HostCapabilities = { cores: 4, ramMB: 4096, gpuMemoryMB: 0, diskMB: 10_000, kinds: ['wasi'] };
const [HONEST_A, HONEST_B, LIAR] = [id(2), id(3), id(4)];

function votedJob(n: number, k: number): JobSpec {
  const parsed = parseJobSpec({
    image: { kind: 'wasi', sha256: 'ab'.repeat(32), size: 100 }, timeLimitMs: 1_000, redundancy: { n, k },
    tasks: [{ args: ['x'], env: {}, stdin: '' }],
  });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

const leaseOf = (out: Outgoing[]): LeaseMessage => out.find((o) => o.msg.t === 'lease')!.msg as LeaseMessage;
const result = (lease: LeaseMessage, digest: string): ResultMessage => ({
  v: lease.v, t: 'result', jobId: lease.jobId, lease: lease.lease, digest, ok: true, exitCode: 0, code: null,
  stdout: digest, stderr: '', durationMs: 1,
});

function threeCopiesOut(): { book: SubmitterBook; leases: Record<string, LeaseMessage> } {
  const book = new SubmitterBook({ leaseGraceMs: 1_000, maxLeaseLosses: 3 });
  book.add('job-late-vote-01', votedJob(3, 2), 0);
  const leases: Record<string, LeaseMessage> = {};
  for (const host of [HONEST_A, HONEST_B, LIAR]) leases[host] = leaseOf(book.onPull(0, host, 'job-late-vote-01', 1, CAPS));
  return { book, leases };
}

describe('late votes of a decided task', () => {
  it('names a host whose result arrives after the quorum closed and differs from the accepted one', () => {
    const { book, leases } = threeCopiesOut();
    book.onResult(HONEST_A, result(leases[HONEST_A]!, 'good'));
    const sent = book.onResult(HONEST_B, result(leases[HONEST_B]!, 'good'));
    expect(sent).toEqual([]); // the liar's copy is left to run, not revoked
    expect(book.jobs.get('job-late-vote-01')!.status).toBe('completed');
    expect([...book.jobs.get('job-late-vote-01')!.suspects]).toEqual([]);
    expect(book.takeLateSuspects()).toEqual([]);
    book.onResult(LIAR, result(leases[LIAR]!, 'forged'));
    expect([...book.jobs.get('job-late-vote-01')!.suspects]).toEqual([LIAR]);
    expect(book.takeLateSuspects()).toEqual([{ jobId: 'job-late-vote-01', host: LIAR }]);
    expect(book.takeLateSuspects()).toEqual([]);
  });

  it('does not name a late host that agrees, nor a host answering for a lease it never held', () => {
    const { book, leases } = threeCopiesOut();
    book.onResult(HONEST_A, result(leases[HONEST_A]!, 'good'));
    book.onResult(LIAR, result(leases[LIAR]!, 'good'));
    // HONEST_B's copy was revoked; someone else answering for it, then HONEST_B agreeing late.
    book.onResult(id(9), result(leases[HONEST_B]!, 'forged'));
    book.onResult(HONEST_B, result(leases[HONEST_B]!, 'good'));
    expect([...book.jobs.get('job-late-vote-01')!.suspects]).toEqual([]);
    // A late result counts once: the same lease answering again is ignored.
    book.onResult(HONEST_B, result(leases[HONEST_B]!, 'forged'));
    expect([...book.jobs.get('job-late-vote-01')!.suspects]).toEqual([]);
    expect(book.takeLateSuspects()).toEqual([]);
  });

  it('still revokes the copies out when a voted task fails or its job is cancelled', () => {
    const { book, leases } = threeCopiesOut();
    const sent = book.cancel('job-late-vote-01');
    expect(sent.map((o) => o.msg.t)).toEqual(['cancel', 'cancel', 'cancel']);
    book.onResult(LIAR, result(leases[LIAR]!, 'forged'));
    expect([...book.jobs.get('job-late-vote-01')!.suspects]).toEqual([]);
  });
});
