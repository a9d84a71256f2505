import { describe, expect, it } from 'vitest';
import { decodeJobMessage, fitResultForWire, JOB_WIRE_VERSION, type JobRunMessage } from '../../src/wire/job.ts';
import { decodeFrame, encodeFrame } from '../../src/wire/frame.ts';
import { decodeEnvelope } from '../../src/wire/envelope.ts';
import type { WasiTaskResult } from '../../src/compute/wasi-task.ts';

const run: JobRunMessage = {
  type: 'run', jobId: '0123456789abcdef', name: 'hello.wasm', args: ['a'], env: { K: 'v' }, stdin: '',
  timeLimitMs: 1000, memoryLimitMiB: 16,
};

function codeOf(m: unknown): string {
  const r = decodeJobMessage(m);
  return r.ok ? 'accepted' : r.code;
}

describe('decodeJobMessage', () => {
  it('accepts the four message kinds', () => {
    expect(decodeJobMessage(run)).toEqual({ ok: true, value: run });
    const result = { type: 'result', jobId: run.jobId, result: { ok: true, exitCode: 0, stdout: 'x', stderr: '', durationMs: 3 } };
    expect(codeOf(result)).toBe('accepted');
    expect(codeOf({ type: 'result', jobId: run.jobId, result: { ok: false, code: 'E_TRAP', message: 'boom', stdout: '', stderr: '', durationMs: 1 } })).toBe('accepted');
    expect(codeOf({ type: 'reject', jobId: run.jobId, code: 'E_HOST_BUSY', message: 'busy' })).toBe('accepted');
    expect(codeOf({ type: 'cancel', jobId: run.jobId })).toBe('accepted');
  });

  it('rejects non-objects and unknown types with named codes', () => {
    expect(codeOf(null)).toBe('E_JOB_MALFORMED');
    expect(codeOf('run')).toBe('E_JOB_MALFORMED');
    expect(codeOf([run])).toBe('E_JOB_MALFORMED');
    expect(codeOf({ ...run, type: 'explode' })).toBe('E_JOB_UNKNOWN_TYPE');
    expect(codeOf({ ...run, type: 'toString' })).toBe('E_JOB_UNKNOWN_TYPE');
  });

  it('rejects bad ids and names as malformed', () => {
    expect(codeOf({ ...run, jobId: '0123' })).toBe('E_JOB_MALFORMED');
    expect(codeOf({ ...run, jobId: '0123456789ABCDEF' })).toBe('E_JOB_MALFORMED');
    expect(codeOf({ ...run, name: 'x'.repeat(300) })).toBe('E_JOB_MALFORMED');
    expect(codeOf({ type: 'cancel', jobId: 5 })).toBe('E_JOB_MALFORMED');
  });

  it('rejects run specs beyond the limits with E_BAD_SPEC', () => {
    expect(codeOf({ ...run, args: Array.from({ length: 257 }, () => 'x') })).toBe('E_BAD_SPEC');
    expect(codeOf({ ...run, args: Array.from({ length: 20 }, () => 'x'.repeat(4000)) })).toBe('E_BAD_SPEC');
    expect(codeOf({ ...run, args: ['nul\0inside'] })).toBe('E_BAD_SPEC');
    expect(codeOf({ ...run, env: { 'A=B': 'c' } })).toBe('E_BAD_SPEC');
    expect(codeOf({ ...run, stdin: 'x'.repeat(20_000) })).toBe('E_BAD_SPEC');
    expect(codeOf({ ...run, timeLimitMs: 50 })).toBe('E_BAD_SPEC');
    expect(codeOf({ ...run, timeLimitMs: 600_001 })).toBe('E_BAD_SPEC');
    expect(codeOf({ ...run, memoryLimitMiB: 0 })).toBe('E_BAD_SPEC');
    expect(codeOf({ ...run, memoryLimitMiB: 1.5 })).toBe('E_BAD_SPEC');
  });

  it('rejects malformed results and rejections', () => {
    const base = { type: 'result', jobId: run.jobId };
    expect(codeOf({ ...base, result: { ok: true, exitCode: -1, stdout: '', stderr: '', durationMs: 0 } })).toBe('E_JOB_MALFORMED');
    expect(codeOf({ ...base, result: { ok: false, code: 'not a code', message: '', stdout: '', stderr: '', durationMs: 0 } })).toBe('E_JOB_MALFORMED');
    expect(codeOf({ ...base, result: { ok: true } })).toBe('E_JOB_MALFORMED');
    expect(codeOf({ type: 'reject', jobId: run.jobId, code: 'E_X', message: 'm'.repeat(2000) })).toBe('E_JOB_MALFORMED');
  });
});

describe('fitResultForWire', () => {
  it('cuts a 1 MiB output so the result frame can be encoded and decoded, and flags it', () => {
    const big: WasiTaskResult = { ok: true, exitCode: 0, stdout: 'y\n'.repeat(512 * 1024), stderr: '"'.repeat(100_000), durationMs: 5 };
    expect(() => encodeFrame({ p: 'job', v: JOB_WIRE_VERSION, m: { type: 'result', jobId: run.jobId, result: big } })).toThrow(/E_HEADER_TOO_LARGE/);
    const fitted = fitResultForWire(big);
    const frame = encodeFrame({ p: 'job', v: JOB_WIRE_VERSION, m: { type: 'result', jobId: run.jobId, result: fitted } });
    const decoded = decodeFrame(frame);
    if (!decoded.ok) throw new Error(decoded.reason);
    const env = decodeEnvelope(decoded.value.header);
    if (!env.ok) throw new Error(env.reason);
    const msg = decodeJobMessage(env.value.m);
    if (!msg.ok || msg.value.type !== 'result') throw new Error('not a result');
    const r = msg.value.result;
    expect(r.ok && r.truncated).toBe(true);
    expect(big.stdout.startsWith(r.stdout)).toBe(true);
    expect(r.stdout.length).toBeGreaterThan(10_000);
  });

  it('leaves a small result untouched', () => {
    const small: WasiTaskResult = { ok: false, code: 'E_TRAP', message: 'x', stdout: 'a', stderr: 'b', durationMs: 1 };
    expect(fitResultForWire(small)).toBe(small);
  });
});
