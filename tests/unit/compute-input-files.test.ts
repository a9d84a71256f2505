/**
 * Input files of WASI tasks: the guest (wc.wasm) reads files from its preopened directory, nested paths
 * included, in this thread and in the Node sandbox worker; bad paths, duplicates, file/directory clashes and
 * oversize inputs are refused with named codes before anything runs. In the compute service, inline files and
 * files named by sha256 (served by the submitter, fetched and verified by hosts) reach the guest.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { runWasiTask } from '../../src/compute/wasi-run.ts';
import { runWasiTaskInNode } from '../../src/compute/node-sandbox.ts';
import { validateWasiTaskSpec, type WasiTaskResult, type WasiTaskSpec } from '../../src/compute/wasi-task.ts';
import { WasiFileLimits, type WasiInputFile } from '../../src/compute/wasi-input-files.ts';
import { computeService } from '../../src/runtime/services/compute-service.ts';
import type { ComputeSnapshot, ComputeTaskResult } from '../../src/runtime/services/compute-types.ts';
import { meshCloud, stopNetworks, waitFor } from './support/core-network.ts';

afterEach(stopNetworks);

const example = (name: string) => new Uint8Array(readFileSync(`public/examples/${name}.wasm`));
const text = (s: string) => new TextEncoder().encode(s);
const spec = (over: Partial<WasiTaskSpec> = {}): WasiTaskSpec => ({
  args: [], env: {}, stdin: '', timeLimitMs: 10_000, memoryLimitMiB: 64, ...over,
});
const FILES: WasiInputFile[] = [
  { path: 'a.txt', bytes: text('one two\nthree\n') },
  { path: 'data/deep/b.txt', bytes: text('x y z w\n') },
];

function codeOf(r: WasiTaskResult): string {
  return r.ok ? `ok ${r.exitCode}` : r.code;
}

describe('WASI input files', () => {
  it('a guest reads its input files, nested ones included', async () => {
    const r = await runWasiTask(spec({ args: ['a.txt', 'data/deep/b.txt'], files: FILES }), example('wc'), 'wc.wasm');
    expect(codeOf(r)).toBe('ok 0');
    expect(r.stdout).toBe('2 3 14 a.txt\n1 4 8 data/deep/b.txt\n');
  });

  it('a file that was not given is not there', async () => {
    const r = await runWasiTask(spec({ args: ['missing.txt'], files: FILES }), example('wc'), 'wc.wasm');
    expect(codeOf(r)).toBe('ok 1');
    expect(r.stderr).toContain('cannot open missing.txt');
  });

  it('works through the Node sandbox worker (files cross the thread boundary)', async () => {
    const r = await runWasiTaskInNode(spec({ args: ['data/deep/b.txt'], files: FILES }), example('wc'), 'wc.wasm');
    expect(codeOf(r)).toBe('ok 0');
    expect(r.stdout).toBe('1 4 8 data/deep/b.txt\n');
  });

  it('refuses bad paths, duplicates, clashes and oversize inputs with named codes', () => {
    const bad = (files: WasiInputFile[]) => {
      const v = validateWasiTaskSpec(spec({ files }));
      return v.ok ? 'accepted' : v.code;
    };
    const one = text('1');
    expect(bad([{ path: '/etc/passwd', bytes: one }])).toBe('E_BAD_SPEC');
    expect(bad([{ path: '../up', bytes: one }])).toBe('E_BAD_SPEC');
    expect(bad([{ path: 'a/../../b', bytes: one }])).toBe('E_BAD_SPEC');
    expect(bad([{ path: 'a//b', bytes: one }])).toBe('E_BAD_SPEC');
    expect(bad([{ path: 'a\\b', bytes: one }])).toBe('E_BAD_SPEC');
    expect(bad([{ path: 'x', bytes: one }, { path: 'x', bytes: one }])).toBe('E_BAD_INPUT_FILE');
    expect(bad([{ path: 'x', bytes: one }, { path: 'x/y', bytes: one }])).toBe('E_BAD_INPUT_FILE');
    const big = new Uint8Array(WasiFileLimits.MAX_TOTAL_BYTES / 2 + 1);
    expect(bad([{ path: 'p', bytes: big }, { path: 'q', bytes: big }])).toBe('E_INPUT_TOO_LARGE');
    expect(bad(FILES)).toBe('accepted');
  });

  it('a task with bad files fails before the guest runs', async () => {
    const r = await runWasiTask(spec({ args: ['a.txt'], files: [{ path: '../a.txt', bytes: text('x') }] }), example('wc'), 'wc.wasm');
    expect(codeOf(r)).toBe('E_BAD_SPEC');
  });
});

describe('input files in the compute service', () => {
  it('inline files and files by sha256 reach the guest on other hosts', async () => {
    const [submitter] = await meshCloud(Array.from({ length: 3 }, () => ({ tickMs: 100, services: [computeService()], runner: () => ({ run: runWasiTaskInNode }) })));
    const big = text('alpha beta\n'.repeat(5000));
    const sha256 = createHash('sha256').update(big).digest('hex');
    const spec = {
      name: 'wc files', timeLimitMs: 10_000,
      tasks: [
        { args: ['notes.txt'], env: {}, stdin: '', inputFiles: [{ path: 'notes.txt', inline: 'a b\nc\n' }] },
        { args: ['in/big.txt'], env: {}, stdin: '', inputFiles: [{ path: 'in/big.txt', sha256 }] },
      ],
    };
    await expect(submitter!.command('compute', 'submit', { spec, image: example('wc') })).rejects.toMatchObject({ code: 'E_IMAGE_MISSING' });
    const { jobId } = (await submitter!.command('compute', 'submit', { spec, image: example('wc'), files: [big] })) as { jobId: string };
    await waitFor(() => (submitter!.snapshot().services.compute as ComputeSnapshot).jobs.find((j) => j.jobId === jobId)?.state === 'done', 30_000, 'job done');
    const results = (await submitter!.command('compute', 'results', { jobId })) as ComputeTaskResult[];
    expect(results.map((r) => r.stdout)).toEqual(['2 3 6 notes.txt\n', `5000 10000 ${big.byteLength} in/big.txt\n`]);
  }, 60_000);
});
