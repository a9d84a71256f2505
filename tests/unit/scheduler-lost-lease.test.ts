/**
 * A copy lost by its host (lease expired, host down) before it voted: the task is handed out again, to that same
 * host too. Before, a host that had held a copy never got the task again, so a cloud whose only capable host lost
 * one copy never finished the job (a likely cause of a one-host x86 unit test that timed out once in CI).
 */
import { describe, expect, it } from 'vitest';
import { SubmitterBook } from '../../src/protocols/scheduler/submitter.ts';
import { HOST_CAPS as CAPS, leaseOf, oneTaskJob as job, peer as id, resultFor as result } from './support/submitter-book.ts';

const [HOST, OTHER] = [id(2), id(3)];
const JOB = 'job-lost-lease-01';

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
