import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runWasiTask } from '../../src/compute/wasi-run.ts';
import { runWasiTaskInNode } from '../../src/compute/node-sandbox.ts';
import { encodeUleb } from '../../src/compute/wasm-memory-limit.ts';
import type { WasiTaskResult, WasiTaskSpec } from '../../src/compute/wasi-task.ts';

const example = (name: string) => new Uint8Array(readFileSync(`public/examples/${name}.wasm`));
const spec = (over: Partial<WasiTaskSpec> = {}): WasiTaskSpec => ({
  args: [], env: {}, stdin: '', timeLimitMs: 10_000, memoryLimitMiB: 64, ...over,
});

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const str = (s: string) => [s.length, ...new TextEncoder().encode(s)];
const section = (id: number, content: number[]) => [id, ...encodeUleb(content.length), ...content];
/** A hand-built command: `_start` runs `body` (instructions), with optional imports of `() -> ()` functions. */
function command(body: number[], imports: [string, string][] = [], exportStart = true): Uint8Array {
  const fnIndex = imports.length;
  const exports = [
    ...(exportStart ? [[...str('_start'), 0x00, fnIndex]] : []),
    [...str('memory'), 0x02, 0],
  ];
  const code = [0x00, ...body, 0x0b];
  return Uint8Array.from([
    ...HEADER,
    ...section(1, [1, 0x60, 0, 0]),
    ...(imports.length ? section(2, [imports.length, ...imports.flatMap(([m, n]) => [...str(m), ...str(n), 0x00, 0])]) : []),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [exports.length, ...exports.flat()]),
    ...section(10, [1, code.length, ...code]),
  ]);
}

function expectOk(r: WasiTaskResult): Extract<WasiTaskResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message}`);
  return r;
}
function expectCode(r: WasiTaskResult, code: string): void {
  expect(r.ok ? `ok (exit ${r.exitCode})` : r.code).toBe(code);
}

describe('runWasiTask (in this thread)', () => {
  it('runs hello with its arguments (UTF-8 included) and echoes stdin', async () => {
    const r = expectOk(await runWasiTask(spec({ args: ['a', 'b c', 'héllo'], stdin: 'line one\nline two\n' }), example('hello'), 'hello.wasm'));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('hello from nephele\na b c héllo\nline one\nline two\n');
    expect(r.truncated).toBeUndefined();
  });

  it('counts lines, words and bytes of stdin', async () => {
    const r = expectOk(await runWasiTask(spec({ stdin: 'the quick brown\nfox\n' }), example('wc')));
    expect(r.stdout).toBe('2 4 20\n');
  });

  it('reports the exit code from proc_exit and captures stderr', async () => {
    const r = expectOk(await runWasiTask(spec({ args: ['42'] }), example('exit')));
    expect(r.exitCode).toBe(42);
    expect(r.stderr).toBe('exiting with 42\n');
  });

  it('computes primes', async () => {
    const r = expectOk(await runWasiTask(spec({ args: ['10000'] }), example('primes')));
    expect(r.stdout).toBe('1229 primes below 10000\n');
  });

  it('lets an allocation within the memory limit succeed and one beyond it fail inside the guest', async () => {
    const within = expectOk(await runWasiTask(spec({ args: ['8'], memoryLimitMiB: 16 }), example('alloc')));
    expect(within.exitCode).toBe(0);
    expect(within.stdout).toMatch(/^ok 8 MiB/);
    const beyond = expectOk(await runWasiTask(spec({ args: ['32'], memoryLimitMiB: 16 }), example('alloc')));
    expect(beyond.exitCode).toBe(2);
    expect(beyond.stderr).toContain('out of memory');
    // The same allocation runs when the limit allows it: the failure above is the limit, not the guest.
    expect(expectOk(await runWasiTask(spec({ args: ['32'], memoryLimitMiB: 64 }), example('alloc'))).exitCode).toBe(0);
  });

  it('passes environment variables', async () => {
    const r = expectOk(await runWasiTask(spec({ env: { LANG: 'C', X: 'y=z' } }), example('env')));
    expect(r.stdout).toBe('LANG=C\nX=y=z\n');
  });

  it('refuses non-WebAssembly input with E_NOT_WASM', async () => {
    expectCode(await runWasiTask(spec(), new TextEncoder().encode('#!/bin/sh\necho hi\n')), 'E_NOT_WASM');
    expectCode(await runWasiTask(spec(), Uint8Array.from([...HEADER, 0x01, 0x05])), 'E_NOT_WASM');
  });

  it('refuses a module importing outside wasi_snapshot_preview1 with E_BAD_IMPORT', async () => {
    const r = await runWasiTask(spec(), command([], [['env', 'foo']]));
    expectCode(r, 'E_BAD_IMPORT');
    if (!r.ok) expect(r.message).toContain('env.foo');
    expectCode(await runWasiTask(spec(), command([], [['wasi_snapshot_preview1', 'no_such_call']])), 'E_BAD_IMPORT');
  });

  it('refuses a module without _start with E_NOT_COMMAND', async () => {
    expectCode(await runWasiTask(spec(), command([], [], false)), 'E_NOT_COMMAND');
  });

  it('turns a runtime trap into E_TRAP with the engine message', async () => {
    const r = await runWasiTask(spec(), command([0x00 /* unreachable */]));
    expectCode(r, 'E_TRAP');
    if (!r.ok) expect(r.message).toMatch(/unreachable/i);
  });

  it('refuses specs beyond the hard limits with E_BAD_SPEC', async () => {
    expectCode(await runWasiTask(spec({ args: Array.from({ length: 257 }, () => 'x') }), example('hello')), 'E_BAD_SPEC');
    expectCode(await runWasiTask(spec({ timeLimitMs: 10 }), example('hello')), 'E_BAD_SPEC');
    expectCode(await runWasiTask(spec({ memoryLimitMiB: 5000 }), example('hello')), 'E_BAD_SPEC');
  });
});

describe('runWasiTaskInNode (worker thread per task)', () => {
  it('runs hello in a worker thread with args and stdin', async () => {
    const r = expectOk(await runWasiTaskInNode(spec({ args: ['x', 'y'], stdin: 'in\n' }), example('hello'), 'hello.wasm'));
    expect(r.stdout).toBe('hello from nephele\nx y\nin\n');
    expect(r.exitCode).toBe(0);
  });

  it('kills an infinite loop at the time limit with E_TIME_LIMIT', async () => {
    const t0 = performance.now();
    const r = await runWasiTaskInNode(spec({ timeLimitMs: 500 }), example('loop'));
    const wall = performance.now() - t0;
    expectCode(r, 'E_TIME_LIMIT');
    expect(r.durationMs).toBeGreaterThanOrEqual(490);
    expect(r.durationMs).toBeLessThan(1500);
    expect(wall).toBeLessThan(15_000);
  });

  it('enforces the memory limit and reports exit codes from the worker', async () => {
    const beyond = expectOk(await runWasiTaskInNode(spec({ args: ['32'], memoryLimitMiB: 16 }), example('alloc')));
    expect(beyond.exitCode).toBe(2);
    const exit = expectOk(await runWasiTaskInNode(spec({ args: ['3'] }), example('exit')));
    expect(exit.exitCode).toBe(3);
  });

  it('passes validation failures through from the worker', async () => {
    expectCode(await runWasiTaskInNode(spec(), new Uint8Array([1, 2, 3])), 'E_NOT_WASM');
    expectCode(await runWasiTaskInNode(spec(), command([], [['env', 'foo']])), 'E_BAD_IMPORT');
  });
});
