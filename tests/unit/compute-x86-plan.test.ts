/**
 * From a leased task of an x86 job (the job model's domain) to the v86 task a host runs, the images it fetches,
 * and the result it reports: a multiboot guest's args are its command line, a Linux guest's program is the input
 * file `program`; bad combinations are deterministic failures every host agrees on; emulator trouble is the host's.
 */
import { describe, expect, it } from 'vitest';
import { isHostFailure, planX86Task, x86JobHashes, x86ToTaskResult } from '../../src/runtime/services/compute-x86.ts';

const H = (c: string): string => c.repeat(64);
const multiboot = { kind: 'x86' as const, domain: { boot: 'multiboot' as const, memoryMB: 32, kernel: H('a'), snapshot: H('b') } };
const linux = { kind: 'x86' as const, domain: { boot: 'linux' as const, memoryMB: 96, kernel: H('c'), initrd: H('d'), snapshot: H('e') } };
const task = (args: string[], extra: Record<string, unknown> = {}) => ({ args, env: {}, stdin: '', ...extra });

describe('planning an x86 task', () => {
  it('runs a multiboot guest from its snapshot with the args as its command line', () => {
    const plan = planX86Task(multiboot, task(['echo', 'hi']), 5000);
    expect(plan).toEqual({
      ok: true,
      spec: { domain: { boot: 'multiboot', memoryMB: 32, kernel: H('a'), snapshot: H('b') }, args: ['echo', 'hi'], stdin: '', timeLimitMs: 5000 },
      images: [H('b')],
    });
  });

  it('runs a Linux guest program named by the input file "program"', () => {
    const plan = planX86Task(linux, task(['x'], { stdin: 'in', inputFiles: [{ path: 'program', sha256: H('f') }] }), 5000);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.spec.program).toBe(H('f'));
    expect(plan.images).toEqual([H('e'), H('f')]);
  });

  it('rejects what the guests cannot do, with named codes', () => {
    expect(planX86Task(linux, task(['x']), 5000)).toMatchObject({ ok: false, code: 'E_X86_BAD_SPEC' });
    expect(planX86Task(multiboot, task(['x'], { stdin: 'no' }), 5000)).toMatchObject({ ok: false, code: 'E_X86_BAD_SPEC' });
    expect(planX86Task(multiboot, task(['x'], { env: { A: '1' } }), 5000)).toMatchObject({ ok: false, code: 'E_X86_BAD_SPEC' });
    expect(planX86Task(multiboot, task(['x'], { inputFiles: [{ path: 'data.txt', inline: 'x' }] }), 5000))
      .toMatchObject({ ok: false, code: 'E_X86_INPUT_FILES_UNSUPPORTED' });
    const big = { kind: 'x86' as const, domain: { ...multiboot.domain, memoryMB: 4096 } };
    expect(planX86Task(big, task(['x']), 5000)).toMatchObject({ ok: false, code: 'E_X86_BAD_SPEC' });
  });

  it('names the images a submitter must hold: what hosts fetch, and every program', () => {
    expect(x86JobHashes(multiboot, [task(['a'])])).toEqual([H('b')]);
    const cold = { kind: 'x86' as const, domain: { boot: 'multiboot' as const, memoryMB: 32, kernel: H('a') } };
    expect(x86JobHashes(cold, [task(['a'])])).toEqual([H('a')]);
    expect(x86JobHashes(linux, [task([], { inputFiles: [{ path: 'program', sha256: H('f') }] }), task([], { inputFiles: [{ path: 'program', sha256: H('1') }] })]))
      .toEqual([H('e'), H('f'), H('1')]);
  });
});

describe('x86 results', () => {
  it('reports serial output as stdout and the exit status as exit code', () => {
    const timings = { readyMs: 1, firstOutputMs: 2, exitMs: 3 };
    expect(x86ToTaskResult({ ok: true, exitStatus: 3, serial: 'hi\n', durationMs: 40, timings, restoredFromSnapshot: true }))
      .toEqual({ ok: true, exitCode: 3, stdout: 'hi\n', stderr: '', durationMs: 40 });
    const timeout = { ok: false as const, code: 'E_X86_TIME_LIMIT' as const, message: 'killed', serial: 'partial', durationMs: 900 };
    expect(x86ToTaskResult(timeout)).toEqual({ ok: false, code: 'E_X86_TIME_LIMIT', message: 'killed', stdout: 'partial', stderr: '', durationMs: 900 });
    expect(isHostFailure(timeout)).toBe(false);
    expect(isHostFailure({ ...timeout, code: 'E_X86_SANDBOX_FAILED' })).toBe(true);
  });
});
