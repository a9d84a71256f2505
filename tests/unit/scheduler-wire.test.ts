import { describe, expect, it } from 'vitest';
import {
  decodeSchedulerMessage, MAX_BATCH_ENTRIES, MAX_PULL_SLOTS, MAX_RESULT_OUTPUT_CHARS, SCHEDULER_WIRE_VERSION,
} from '../../src/wire/scheduler.ts';

const v = SCHEDULER_WIRE_VERSION;
const JOB = '0123456789abcdef';
const PEER = 'a'.repeat(40);
const HASH = 'c'.repeat(64);
const caps = { cores: 4, ramMB: 4096, gpuMemoryMB: 0, diskMB: 1000, kinds: ['wasi'] };
const announce = {
  v, t: 'announce', jobId: JOB, submitter: PEER, round: 0, hops: 3, image: { kind: 'wasi', sha256: HASH, size: 100 },
  requirements: { ramMB: 512 }, timeLimitMs: 1000, taskCount: 10,
};
const result = { v, t: 'result', jobId: JOB, lease: 3, digest: 'sha256:' + HASH, ok: true, exitCode: 0, code: null, stdout: 'hi', stderr: '', durationMs: 12 };
const lease = {
  v, t: 'lease', jobId: JOB, lease: 0, task: 2, spec: { args: [], env: {}, stdin: '' }, image: { kind: 'wasi', sha256: HASH, size: 100 },
  timeLimitMs: 1000, outputLimits: { stdoutBytes: 10, stderrBytes: 10 },
};
const { v: _v, t: _t, jobId: _j, ...outcome } = result;
const entry = (lease: number) => ({ lease, task: lease, spec: { args: [String(lease)], env: {}, stdin: '' } });
const leases = {
  v, t: 'leases', jobId: JOB, image: lease.image, timeLimitMs: 1000, outputLimits: lease.outputLimits, leases: [entry(0), entry(1)],
};
const results = { v, t: 'results', jobId: JOB, results: [{ ...outcome, lease: 0 }, { ...outcome, lease: 1 }] };

describe('scheduler wire decoder', () => {
  it.each([
    ['announce', announce],
    ['pull', { v, t: 'pull', jobId: JOB, slots: 2, caps }],
    ['lease', lease],
    ['no-work', { v, t: 'no-work', jobId: JOB, final: false }],
    ['result', result],
    ['leases (a batch)', leases],
    ['results (a batch)', results],
    ['release', { v, t: 'release', jobId: JOB, lease: 1, code: 'E_HOST_BUSY' }],
    ['revoke', { v, t: 'revoke', jobId: JOB, lease: 1 }],
    ['cancel', { v, t: 'cancel', jobId: JOB }],
  ])('accepts a valid %s', (_name, msg) => {
    expect(decodeSchedulerMessage(msg)).toEqual({ ok: true, value: msg });
  });

  it.each([
    ['not an object', 'hello', 'E_SCHED_MALFORMED'],
    ['an array', [], 'E_SCHED_MALFORMED'],
    ['a missing version', { ...announce, v: undefined }, 'E_SCHED_VERSION'],
    ['a future version', { ...announce, v: v + 1 }, 'E_SCHED_VERSION'],
    ['version 1 (no batch forms)', { ...announce, v: 1 }, 'E_SCHED_VERSION'],
    ['an unknown type', { v, t: 'steal', jobId: JOB }, 'E_SCHED_UNKNOWN_TYPE'],
    ['a bad job id', { v, t: 'cancel', jobId: 'XYZ' }, 'E_SCHED_MALFORMED'],
    ['an extra field', { v, t: 'cancel', jobId: JOB, evil: 1 }, 'E_SCHED_MALFORMED'],
    ['a bad submitter', { ...announce, submitter: 'B'.repeat(40) }, 'E_BAD_PEER_ID'],
    ['too many hops', { ...announce, hops: 99 }, 'E_SCHED_MALFORMED'],
    ['a bad image in an announcement', { ...announce, image: { kind: 'wasi', sha256: 'x', size: 1 } }, 'E_BAD_JOB'],
    ['a bad task spec in a lease', { ...lease, spec: { args: [1], env: {}, stdin: '' } }, 'E_BAD_JOB'],
    ['too many pull slots', { v, t: 'pull', jobId: JOB, slots: MAX_PULL_SLOTS + 1, caps }, 'E_SCHED_MALFORMED'],
    ['an empty digest', { ...result, digest: '' }, 'E_SCHED_MALFORMED'],
    ['a digest with spaces', { ...result, digest: 'a b' }, 'E_SCHED_MALFORMED'],
    ['oversized stdout', { ...result, stdout: 'x'.repeat(20_000) }, 'E_SCHED_MALFORMED'],
    ['a bad error code', { v, t: 'release', jobId: JOB, lease: 1, code: 'busy' }, 'E_SCHED_MALFORMED'],
    ['a negative lease', { v, t: 'revoke', jobId: JOB, lease: -1 }, 'E_SCHED_MALFORMED'],
    ['an empty batch of leases', { ...leases, leases: [] }, 'E_SCHED_MALFORMED'],
    ['too many leases in a batch', { ...leases, leases: Array.from({ length: MAX_BATCH_ENTRIES + 1 }, (_, i) => entry(i)) }, 'E_SCHED_MALFORMED'],
    ['a lease id twice in a batch', { ...leases, leases: [entry(1), entry(1)] }, 'E_SCHED_MALFORMED'],
    ['a bad task spec in a batch of leases', { ...leases, leases: [entry(0), { ...entry(1), spec: { args: [1], env: {}, stdin: '' } }] }, 'E_BAD_JOB'],
    ['too many results in a batch', { ...results, results: Array.from({ length: MAX_BATCH_ENTRIES + 1 }, (_, i) => ({ ...outcome, lease: i })) }, 'E_SCHED_MALFORMED'],
    ['a result twice in a batch', { ...results, results: [outcome, outcome] }, 'E_SCHED_MALFORMED'],
    ['a batch of results over the output bound', {
      ...results, results: [0, 1, 2].map((i) => ({ ...outcome, lease: i, stdout: 'x'.repeat(MAX_RESULT_OUTPUT_CHARS) })),
    }, 'E_SCHED_MALFORMED'],
    ['an oversized stdout in a batch', { ...results, results: [{ ...outcome, stdout: 'x'.repeat(MAX_RESULT_OUTPUT_CHARS + 1) }] }, 'E_SCHED_MALFORMED'],
  ])('rejects %s', (_name, msg, code) => {
    const d = decodeSchedulerMessage(msg);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.code).toBe(code);
  });
});
