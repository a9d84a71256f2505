/**
 * Sandbox worker reuse on a Node host: tasks that carry the same reuse key (one job) may run one after another
 * in one worker thread, each with a fresh guest (no state carries over); a kept thread compiles a different
 * module afresh (the compiled-module cache matches bytes, not just the key); a task killed at its limit takes its
 * worker with it and the next task of the job still runs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runWasiTaskInNodeReusing as runWasiTaskInNode } from '../../src/compute/node-sandbox.ts';
import type { WasiTaskResult, WasiTaskSpec } from '../../src/compute/wasi-task.ts';

const example = (name: string) => new Uint8Array(readFileSync(`public/examples/${name}.wasm`));
const spec = (over: Partial<WasiTaskSpec> = {}): WasiTaskSpec => ({
  args: [], env: {}, stdin: '', timeLimitMs: 10_000, memoryLimitMiB: 64, ...over,
});
const out = (r: WasiTaskResult): string => (r.ok ? r.stdout : `${r.code}: ${r.message}`);

describe('sandbox worker reuse (Node)', () => {
  it('runs consecutive tasks of one key with fresh guests, and survives a killed task', async () => {
    const hello = example('hello');
    const t0 = performance.now();
    expect(out(await runWasiTaskInNode(spec({ args: ['one'], stdin: 'a\n', reuseKey: 'job-1' }), hello))).toBe('hello from nephele\none\na\n');
    const first = performance.now() - t0;
    const t1 = performance.now();
    expect(out(await runWasiTaskInNode(spec({ args: ['two'], reuseKey: 'job-1' }), hello))).toBe('hello from nephele\ntwo\n');
    const second = performance.now() - t1;
    console.log(`first task ${first.toFixed(0)} ms (thread start), second ${second.toFixed(0)} ms (kept thread)`);

    const killed = await runWasiTaskInNode(spec({ timeLimitMs: 300, reuseKey: 'job-1' }), example('loop'));
    expect(killed.ok ? 'ok' : killed.code).toBe('E_TIME_LIMIT');
    expect(out(await runWasiTaskInNode(spec({ args: ['three'], reuseKey: 'job-1' }), hello))).toBe('hello from nephele\nthree\n');
    // Another job's module under another key: never the first job's compiled module.
    const exit = await runWasiTaskInNode(spec({ args: ['4'], reuseKey: 'job-2' }), example('exit'));
    expect(exit.ok ? exit.exitCode : exit.code).toBe(4);
    expect(out(await runWasiTaskInNode(spec({ args: ['four'], reuseKey: 'job-1' }), hello))).toBe('hello from nephele\nfour\n');
  });
});
