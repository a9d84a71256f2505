/**
 * Batches on the Node peer (node-sandbox.ts runWasiBatchInNode, the runner node-peer.ts gives its NodeCore): a
 * spec's `batch` runs copy after copy in the job's kept worker thread, each under its own limits — a copy
 * killed at its limit or cancelled by run id does not take the rest of the batch with it — and, in the compute
 * service, a job of tiny tasks on Node hosts goes through batch calls (copies in kept threads prove short)
 * with every task's own output.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runWasiBatchInNode } from '../../src/compute/node-sandbox.ts';
import { cancelSandboxRun, liveSandboxRuns } from '../../src/compute/sandbox-cancel.ts';
import type { WasiTaskResult, WasiTaskSpec } from '../../src/compute/wasi-task.ts';
import type { SandboxRunner } from '../../src/runtime/job-service.ts';
import { computeService } from '../../src/runtime/services/compute-service.ts';
import type { ComputeSnapshot, ComputeTaskResult } from '../../src/runtime/services/compute-types.ts';
import { meshCloud, stopNetworks, waitFor } from './support/core-network.ts';

const example = (name: string) => new Uint8Array(readFileSync(`public/examples/${name}.wasm`));
const spec = (over: Partial<WasiTaskSpec> = {}): WasiTaskSpec => ({
  args: [], env: {}, stdin: '', timeLimitMs: 10_000, memoryLimitMiB: 64, reuseKey: 'sub:job', ...over,
});
const outcome = (r: WasiTaskResult): string => (r.ok ? r.stdout : r.code);

afterEach(() => stopNetworks());

describe('batches on the Node peer', () => {
  it('runs a batch one copy after another, each under its own time limit', async () => {
    const r = await runWasiBatchInNode(spec({
      args: ['100', 'first'],
      batch: [spec({ args: ['4000000000'], timeLimitMs: 300, runId: 'slow' }), spec({ args: ['20'] }), spec({ args: ['1000'] })],
    }), example('primes'));
    expect(outcome(r)).toBe('25 primes below 100\n');
    expect(r.batch?.map(outcome)).toEqual(['E_TIME_LIMIT', '8 primes below 20\n', '168 primes below 1000\n']);
  }, 30_000);

  it('a copy cancelled by run id ends E_CANCELLED and the next copy still runs', async () => {
    const running = runWasiBatchInNode(spec({
      args: ['10'], batch: [spec({ args: ['4000000000'], runId: 'victim' }), spec({ args: ['30'] })],
    }), example('primes'));
    await waitFor(() => liveSandboxRuns().includes('victim'), 10_000, 'the endless copy to start');
    expect(cancelSandboxRun('victim')).toBe(true);
    const r = await running;
    expect(outcome(r)).toBe('4 primes below 10\n');
    expect(r.batch?.map(outcome)).toEqual(['E_CANCELLED', '10 primes below 30\n']);
  }, 30_000);

  it('hosts a job of tiny tasks through batch calls, each task with its own output', async () => {
    let calls = 0;
    let batched = 0;
    const runner: SandboxRunner = {
      run: (s, wasm, name) => {
        calls++;
        if (s.batch) batched++;
        return runWasiBatchInNode(s, wasm, name);
      },
    };
    const setups = [0, 1, 2].map(() => ({ tickMs: 100, services: [computeService()], runner: () => runner }));
    const [submitter] = await meshCloud(setups);
    const count = 60;
    const job = { name: 'node batches', timeLimitMs: 10_000, tasks: Array.from({ length: count }, (_, i) => ({ args: [String(i + 3)], env: {}, stdin: '' })) };
    const { jobId } = (await submitter!.command('compute', 'submit', { spec: job, image: example('exit') })) as { jobId: string };
    await waitFor(() => (submitter!.snapshot().services.compute as ComputeSnapshot).jobs.find((j) => j.jobId === jobId)?.state === 'done', 60_000, 'job done');
    const results = (await submitter!.command('compute', 'results', { jobId })) as ComputeTaskResult[];
    expect(results.map((r) => r.exitCode)).toEqual(Array.from({ length: count }, (_, i) => i + 3));
    expect(batched).toBeGreaterThan(0);
    expect(calls).toBeLessThan(count);
  }, 90_000);
});
