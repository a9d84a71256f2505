/**
 * Slice membership in the scheduler's pure logic: host-match admits only members of a job's slice; a host
 * subscribes only to jobs of its slice and hands back copies when it leaves; the submitter leases only to
 * members it knows (a forged membership claim gets a final no-work) and re-leases copies of a host that left.
 */
import { describe, expect, it } from 'vitest';
import { qualifies, unmetRequirement, type HostCapabilities } from '../../src/protocols/scheduler/host-match.ts';
import { HostSide } from '../../src/protocols/scheduler/host-side.ts';
import { JobLimits, jobSliceName, parseJobSpec, type JobSpec } from '../../src/protocols/scheduler/job-model.ts';
import { sliceName } from '../../src/runtime/services/cloud-messages.ts';
import { MAX_INLINE_INPUT_FILE_CHARS, MAX_INLINE_INPUT_TOTAL_BYTES, SLICE_NAME_PATTERN } from '../../src/runtime/services/compute-types.ts';
import { SubmitterBook } from '../../src/protocols/scheduler/submitter.ts';
import type { Outgoing } from '../../src/protocols/scheduler/types.ts';
import { decodeSchedulerMessage, type AnnounceMessage, type LeaseMessage } from '../../src/wire/scheduler.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const HASH = 'ab'.repeat(32);
const IMAGE = { kind: 'wasi', sha256: HASH, size: 100 } as const;
const CAPS: HostCapabilities = { cores: 4, ramMB: 4096, gpuMemoryMB: 0, diskMB: 10_000, kinds: ['wasi'] };

function spec(tasks: number, slice?: string): JobSpec {
  const parsed = parseJobSpec({
    image: IMAGE, timeLimitMs: 1_000, ...(slice ? { slice } : {}),
    tasks: Array.from({ length: tasks }, (_, i) => ({ args: [String(i)], env: {}, stdin: '' })),
  });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

const leases = (out: Outgoing[]): LeaseMessage[] => out.flatMap((o) => (o.msg.t === 'lease' ? [o.msg] : []));

describe('host-match with slice membership', () => {
  it('admits only hosts whose membership is the job slice', () => {
    expect(qualifies(IMAGE, {}, CAPS)).toBe(true);
    expect(qualifies(IMAGE, {}, { ...CAPS, slice: 'work' })).toBe(true);
    expect(unmetRequirement(IMAGE, {}, CAPS, 100, 'work')).toBe('runs only on slice work; this host is in no slice');
    expect(unmetRequirement(IMAGE, {}, { ...CAPS, slice: 'other' }, 100, 'work')).toMatch(/in slice other/);
    expect(qualifies(IMAGE, {}, { ...CAPS, slice: 'work' }, 100, 'work')).toBe(true);
    // Membership does not lift the other requirements.
    expect(qualifies(IMAGE, { cores: 8 }, { ...CAPS, slice: 'work' }, 100, 'work')).toBe(false);
  });

  it('validates the slice of a job and of scheduler messages', () => {
    expect(parseJobSpec({ image: IMAGE, timeLimitMs: 1000, tasks: [{ args: [], env: {}, stdin: '' }], slice: '../x' })).toMatchObject({ ok: false, code: 'E_BAD_JOB', path: 'slice' });
    expect(spec(1, 'work').slice).toBe('work');
    expect(spec(1).slice).toBeUndefined();
    const announce = { v: 2, t: 'announce', jobId: '0'.repeat(16), submitter: id(1), round: 0, hops: 2, image: IMAGE, requirements: {}, timeLimitMs: 1000, taskCount: 1 };
    expect(decodeSchedulerMessage({ ...announce, slice: 'work' })).toMatchObject({ ok: true, value: { slice: 'work' } });
    expect(decodeSchedulerMessage({ ...announce, slice: '' })).toMatchObject({ ok: false, code: 'E_BAD_SLICE' });
    const pull = { v: 2, t: 'pull', jobId: '0'.repeat(16), slots: 1, caps: { ...CAPS, kinds: ['wasi'] } };
    expect(decodeSchedulerMessage({ ...pull, caps: { ...pull.caps, slice: null } }).ok).toBe(true);
    expect(decodeSchedulerMessage({ ...pull, caps: { ...pull.caps, slice: 'a b' } })).toMatchObject({ ok: false, code: 'E_BAD_SLICE' });
  });
});

describe('the limits the portal form repeats', () => {
  it('match the job model and the cloud', () => {
    expect(MAX_INLINE_INPUT_FILE_CHARS).toBe(JobLimits.MAX_INLINE_FILE_CHARS);
    expect(MAX_INLINE_INPUT_TOTAL_BYTES).toBeLessThan(JobLimits.MAX_TASK_JSON_BYTES);
    for (const name of ['fast', 'a', 'A.b_c-9', '-x', '', 'a b', 'x'.repeat(48), 'x'.repeat(49), 'é']) {
      const expected = sliceName.safeParse(name).success;
      expect(jobSliceName.safeParse(name).success).toBe(expected);
      expect(SLICE_NAME_PATTERN.test(name)).toBe(expected);
    }
  });
});

describe('the host side and a slice', () => {
  const announce = (slice?: string): AnnounceMessage => ({
    v: 2, t: 'announce', jobId: '1'.repeat(16), submitter: id(1), round: 0, hops: 0, image: IMAGE, requirements: {},
    timeLimitMs: 1000, taskCount: 4, ...(slice ? { slice } : {}),
  });
  const options = { pullRetryMs: 100, pullTimeoutMs: 1000 };
  const limits = { maxConcurrentTasks: 2, cpuCapPercent: 100, paused: false };

  it('a non-member never subscribes to a slice job, and pulls carry the membership', () => {
    const outsider = new HostSide({ ...CAPS, slice: 'other' }, limits, options);
    expect(outsider.onAnnounce(0, id(2), announce('work'))).toEqual([]);
    expect(outsider.subscribedJobs()).toEqual([]);
    const member = new HostSide({ ...CAPS, slice: 'work' }, limits, options);
    const out = member.onAnnounce(0, id(3), announce('work'));
    expect(out).toHaveLength(1);
    expect(out[0]!.msg).toMatchObject({ t: 'pull', caps: { slice: 'work' } });
  });

  it('hands back running copies and unsubscribes when it leaves the slice', () => {
    const host = new HostSide({ ...CAPS, slice: 'work' }, limits, options);
    host.onAnnounce(0, id(3), announce('work'));
    const lease = (n: number): LeaseMessage => ({
      v: 2, t: 'lease', jobId: '1'.repeat(16), lease: n, task: n, spec: { args: [], env: {}, stdin: '' }, image: IMAGE,
      timeLimitMs: 1000, outputLimits: { stdoutBytes: 100, stderrBytes: 100 },
    });
    host.onLease(0, id(1), lease(0));
    host.onLease(0, id(1), lease(1));
    host.takeRunBatches();
    expect(host.runningTasks()).toHaveLength(2);
    // Still a member: nothing changes.
    expect(host.pullDue(10).filter((o) => o.msg.t === 'release')).toEqual([]);
    host.setCapabilities({ ...CAPS, slice: null });
    const out = host.pullDue(20);
    expect(out.map((o) => o.msg)).toEqual([
      { v: 2, t: 'release', jobId: '1'.repeat(16), lease: 0, code: 'E_LEFT_SLICE' },
      { v: 2, t: 'release', jobId: '1'.repeat(16), lease: 1, code: 'E_LEFT_SLICE' },
    ]);
    expect(host.runningTasks()).toEqual([]);
    expect(host.subscribedJobs()).toEqual([]);
    expect(host.takeCancelledRuns()).toEqual([`${'1'.repeat(16)}:0`, `${'1'.repeat(16)}:1`]);
    // Rejoining, a later announcement round subscribes it again.
    host.setCapabilities({ ...CAPS, slice: 'work' });
    expect(host.onAnnounce(30, id(3), { ...announce('work'), round: 1 })).toHaveLength(1);
  });
});

describe('the submitter and a slice', () => {
  const JOB = '2'.repeat(16);
  const member = { ...CAPS, slice: 'work' };

  it('leases only to members it knows; a forged membership gets a final no-work', () => {
    const book = new SubmitterBook({ leaseGraceMs: 100, maxLeaseLosses: 4 });
    book.setSliceMembers('work', [id(3), id(4)]);
    book.add(JOB, spec(4, 'work'), 0);
    expect(book.onPull(0, id(5), JOB, 2, CAPS)).toEqual([{ to: id(5), msg: { v: 2, t: 'no-work', jobId: JOB, final: true } }]);
    expect(book.onPull(0, id(5), JOB, 2, member)).toEqual([{ to: id(5), msg: { v: 2, t: 'no-work', jobId: JOB, final: true } }]);
    expect(leases(book.onPull(0, id(3), JOB, 2, member))).toHaveLength(2);
    expect(book.activeSlices()).toEqual(['work']);
  });

  it('revokes the copies of a host that left the slice and re-leases them to a member', () => {
    const book = new SubmitterBook({ leaseGraceMs: 100, maxLeaseLosses: 0 });
    book.setSliceMembers('work', [id(3), id(4)]);
    book.add(JOB, spec(2, 'work'), 0);
    const first = leases(book.onPull(0, id(3), JOB, 2, member));
    expect(first.map((l) => l.task)).toEqual([0, 1]);
    expect(book.onPull(0, id(4), JOB, 2, member)).toEqual([{ to: id(4), msg: { v: 2, t: 'no-work', jobId: JOB, final: false } }]);

    const out = book.setSliceMembers('work', [id(4)]);
    expect(out.map((o) => [o.to, o.msg.t])).toEqual([[id(3), 'revoke'], [id(3), 'revoke']]);
    // The leaver's results no longer count; a remaining member gets both tasks (no loss counted: maxLeaseLosses 0).
    const again = leases(book.onPull(10, id(4), JOB, 2, member));
    expect(again.map((l) => l.task)).toEqual([0, 1]);
    expect(book.onPull(10, id(3), JOB, 1, member)[0]!.msg).toMatchObject({ t: 'no-work', final: true });
    for (const l of again) {
      book.onResult(id(4), { v: 2, t: 'result', jobId: JOB, lease: l.lease, digest: `d${l.task}`, ok: true, exitCode: 0, code: null, stdout: '', stderr: '', durationMs: 1 });
    }
    expect(book.jobs.get(JOB)!.status).toBe('completed');
    expect(book.takeOutcomes().every((o) => o.status === 'accepted' && o.agreeing.join() === id(4))).toBe(true);
    expect(book.activeSlices()).toEqual([]);
  });

  it('leaves jobs without a slice to any qualifying host', () => {
    const book = new SubmitterBook({ leaseGraceMs: 100, maxLeaseLosses: 4 });
    book.setSliceMembers('work', [id(3)]);
    book.add(JOB, spec(1), 0);
    expect(leases(book.onPull(0, id(9), JOB, 1, CAPS))).toHaveLength(1);
  });
});
