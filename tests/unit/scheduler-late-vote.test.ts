/**
 * A voted task (k-of-n) is decided as soon as k results agree. The copies still out are not revoked but checked
 * when they answer: a lying host whose result came last was not named before (the 2-of-3 browser test failed
 * when the liar answered third, and again when its copies were revoked before it could answer).
 */
import { describe, expect, it } from 'vitest';
import { SubmitterBook } from '../../src/protocols/scheduler/submitter.ts';
import type { LeaseMessage } from '../../src/wire/scheduler.ts';
import { HOST_CAPS as CAPS, leaseOf, oneTaskJob as votedJob, peer as id, resultFor as result } from './support/submitter-book.ts';

const [HONEST_A, HONEST_B, LIAR] = [id(2), id(3), id(4)];

function threeCopiesOut(): { book: SubmitterBook; leases: Record<string, LeaseMessage> } {
  const book = new SubmitterBook({ leaseGraceMs: 1_000, maxLeaseLosses: 3 });
  book.add('job-late-vote-01', votedJob(3, 2), 0);
  const leases: Record<string, LeaseMessage> = {};
  for (const host of [HONEST_A, HONEST_B, LIAR]) leases[host] = leaseOf(book.onPull(0, host, 'job-late-vote-01', 1, CAPS))!;
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
