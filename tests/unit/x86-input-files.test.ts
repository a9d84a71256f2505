/**
 * Input files for x86 tasks (issue #5: "the user's static i386 program and inputs go in, serial output and result
 * files come out"): the spec's rules (the same paths and limits as WASI input files; none for the multiboot guest,
 * E_X86_INPUT_FILES_UNSUPPORTED), how a job's task becomes a v86 task with its files and which hashes the
 * submitter serves, where the files go in the guest's 9p share — and, when `npm run build:guests` has built
 * public/guests/linux, the Linux guest's program reading them from its working directory: directly in the Node
 * sandbox, and through the compute service between NodeCores (files fetched by hash from the submitter).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { linuxInputLayout } from '../../src/compute/x86-guest-protocol.ts';
import { guestDomain, guestFileHash, x86GuestIndexSchema, type X86GuestIndex } from '../../src/compute/x86-guest-index.ts';
import { requiredImages, validateX86TaskSpec, type X86TaskSpec } from '../../src/compute/x86-task.ts';
import { WasiFileLimits } from '../../src/compute/wasi-input-files.ts';
import { runX86TaskInNode } from '../../src/compute/node-x86-sandbox.ts';
import { runWasiTaskInNode } from '../../src/compute/node-sandbox.ts';
import { planX86Task, x86JobHashes } from '../../src/runtime/services/compute-x86.ts';
import { computeService } from '../../src/runtime/services/compute-service.ts';
import type { SandboxRunner } from '../../src/runtime/job-service.ts';
import type { NodeCore } from '../../src/runtime/node-core.ts';
import type { ComputeSnapshot, ComputeTaskResult } from '../../src/runtime/services/compute-types.ts';
import { meshCloud, stopNetworks, waitFor } from './support/core-network.ts';
import { rejection } from './support/test-data.ts';

const H = (c: string): string => c.repeat(64);
const linuxDomain = { boot: 'linux' as const, memoryMB: 96, kernel: H('c'), initrd: H('d'), snapshot: H('e') };
const multibootDomain = { boot: 'multiboot' as const, memoryMB: 32, kernel: H('a'), snapshot: H('b') };
const linuxSpec = (inputFiles: unknown): unknown => ({ domain: linuxDomain, program: H('f'), args: [], stdin: '', timeLimitMs: 5000, inputFiles });
const codeOf = (spec: unknown): string => {
  const checked = validateX86TaskSpec(spec);
  return checked.ok ? 'accepted' : checked.code;
};

describe('x86 task specs with input files', () => {
  it('accepts text and hashed files for a Linux guest and fetches the hashed ones like images', () => {
    const spec = linuxSpec([{ path: 'notes.txt', inline: 'hi' }, { path: 'data/in.bin', sha256: H('1') }, { path: 'data/more.bin', sha256: H('f') }]);
    expect(codeOf(spec)).toBe('accepted');
    // The snapshot, the program, then each hashed input once (the last one is the program's own bytes).
    expect(requiredImages(spec as X86TaskSpec)).toEqual([H('e'), H('f'), H('1')]);
  });

  it('refuses files for the multiboot guest with E_X86_INPUT_FILES_UNSUPPORTED', () => {
    expect(codeOf({ domain: multibootDomain, args: ['echo'], stdin: '', timeLimitMs: 5000, inputFiles: [{ path: 'a', inline: 'x' }] }))
      .toBe('E_X86_INPUT_FILES_UNSUPPORTED');
  });

  it.each([
    ['an absolute path', [{ path: '/etc/passwd', inline: 'x' }]],
    ['a parent segment', [{ path: 'a/../b', inline: 'x' }]],
    ['a backslash', [{ path: 'a\\b', inline: 'x' }]],
    ['a path given twice', [{ path: 'a', inline: 'x' }, { path: 'a', sha256: H('1') }]],
    ['a file that is also a directory', [{ path: 'a', inline: 'x' }, { path: 'a/b', inline: 'y' }]],
    ['too many files', Array.from({ length: WasiFileLimits.MAX_FILES + 1 }, (_, i) => ({ path: `f${i}`, inline: '' }))],
    ['a bad hash', [{ path: 'a', sha256: 'nope' }]],
  ])('rejects %s with E_X86_BAD_SPEC, like a WASI task would', (_what, files) => {
    expect(codeOf(linuxSpec(files))).toBe('E_X86_BAD_SPEC');
  });

  it('lays the files out under the working directory, parents first', () => {
    expect(linuxInputLayout(['notes.txt', 'data/deep/in.bin', 'data/x'])).toEqual({
      dirs: ['/out', '/out/data', '/out/data/deep'],
      files: ['/out/notes.txt', '/out/data/deep/in.bin', '/out/data/x'],
    });
  });
});

describe('x86 jobs with input files', () => {
  const linuxJob = { kind: 'x86' as const, domain: { boot: 'snapshot' as const, memoryMB: 96, kernel: H('c'), snapshot: H('e') } };
  const multibootJob = { kind: 'x86' as const, domain: multibootDomain };
  const task = (inputFiles: unknown[]) => ({ args: ['--cat', 'notes.txt'], env: {}, stdin: '', inputFiles }) as never;

  it('hands a Linux task its files besides the program, and the submitter serves the hashed ones', () => {
    const files = [{ path: 'program', sha256: H('f') }, { path: 'notes.txt', inline: 'hi' }, { path: 'data/in.bin', sha256: H('1') }];
    const plan = planX86Task(linuxJob, task(files), 5000);
    if (!plan.ok) throw new Error(plan.message);
    expect(plan.spec.program).toBe(H('f'));
    expect(plan.spec.inputFiles).toEqual(files.slice(1));
    expect(plan.images).toEqual([H('e'), H('f'), H('1')]);
    expect(x86JobHashes(linuxJob, [task(files)])).toEqual([H('e'), H('f'), H('1')]);
  });

  it('refuses a multiboot job with input files at submit and on a host', () => {
    const files = [{ path: 'notes.txt', inline: 'hi' }];
    expect(() => x86JobHashes(multibootJob, [task(files)])).toThrow(expect.objectContaining({ code: 'E_X86_INPUT_FILES_UNSUPPORTED' }));
    // A snapshot boot without a program is the multiboot guest too.
    const snapshotOnly = { kind: 'x86' as const, domain: { boot: 'snapshot' as const, memoryMB: 32, snapshot: H('b') } };
    expect(() => x86JobHashes(snapshotOnly, [task(files)])).toThrow(expect.objectContaining({ code: 'E_X86_INPUT_FILES_UNSUPPORTED' }));
    expect(planX86Task(multibootJob, task(files), 5000)).toMatchObject({ ok: false, code: 'E_X86_INPUT_FILES_UNSUPPORTED' });
  });
});

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const LINUX_DIR = 'public/guests/linux';
const built = existsSync(join(LINUX_DIR, 'index.json'));

function loadGuestSet(dir: string): { index: X86GuestIndex; images: Map<string, Uint8Array> } {
  const index = x86GuestIndexSchema.parse(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')));
  const images = new Map(index.files.map((f) => [f.sha256, new Uint8Array(readFileSync(join(dir, f.sha256)))]));
  return { index, images };
}

describe('the multiboot guest in v86', () => {
  it('answers input files with E_X86_INPUT_FILES_UNSUPPORTED without starting', async () => {
    const multiboot = loadGuestSet('public/guests/multiboot');
    const spec = { domain: guestDomain(multiboot.index, true), args: ['echo', 'hi'], stdin: '', timeLimitMs: 5000, inputFiles: [{ path: 'a.txt', inline: 'x' }] };
    const result = await runX86TaskInNode(spec, multiboot.images);
    expect(result.ok ? 'ok' : result.code).toBe('E_X86_INPUT_FILES_UNSUPPORTED');
  });
});

describe.skipIf(!built)('the Linux guest reads its input files (built by npm run build:guests)', () => {
  const binary = new Uint8Array(Array.from({ length: 300 }, (_, i) => 'abcdefghij\n'.charCodeAt(i % 11)));

  it('finds text and hashed files, nested ones too, in its working directory (Node sandbox)', async () => {
    const linux = loadGuestSet(LINUX_DIR);
    const images = new Map(linux.images);
    images.set(sha256(binary), binary);
    const spec: X86TaskSpec = {
      domain: guestDomain(linux.index, true),
      program: guestFileHash(linux.index, 'hello.i386'),
      args: ['--cat', 'notes.txt', '--cat', 'data/deep/lines.txt', '--cat', 'absent.txt'],
      stdin: '',
      inputFiles: [{ path: 'notes.txt', inline: 'two\nlines\n' }, { path: 'data/deep/lines.txt', sha256: sha256(binary) }],
      outputFiles: ['result.txt'],
      timeLimitMs: 30_000,
    };
    const result = await runX86TaskInNode(spec, images);
    if (!result.ok) throw new Error(`${result.code}: ${result.message}\n${result.serial}`);
    const serial = result.serial;
    expect(serial).toContain('file notes.txt (10 bytes):\ntwo\nlines\n');
    expect(serial).toContain(`file data/deep/lines.txt (300 bytes):\n${new TextDecoder().decode(binary)}`);
    expect(serial).toContain('file absent.txt: missing\n');
    expect(result.files).toEqual({ 'result.txt': 'lines=0 bytes=0\n' });
    // A hashed file the host does not hold is a missing image, caught before the emulator starts.
    const missing = await runX86TaskInNode({ ...spec, inputFiles: [{ path: 'x', sha256: H('9') }] }, linux.images);
    expect(missing.ok ? 'ok' : missing.code).toBe('E_X86_IMAGE_MISSING');
  }, 60_000);

  afterEach(stopNetworks);
  const compute = (core: NodeCore): ComputeSnapshot => core.snapshot().services.compute as ComputeSnapshot;

  it('runs an x86 job whose tasks bring input files, fetched by hash from the submitter', async () => {
    const linux = loadGuestSet(LINUX_DIR);
    const x86: SandboxRunner = { run: runWasiTaskInNode, runX86: runX86TaskInNode, kinds: () => ['wasi', 'x86'] };
    const [submitter, host] = await meshCloud([null, x86].map((runner) => ({ tickMs: 100, services: [computeService()], runner: () => runner })));
    await waitFor(() => compute(host!).kinds.includes('x86'), 5000, 'x86 host advertises x86');
    const d = linux.index.domain;
    const program = guestFileHash(linux.index, 'hello.i386');
    const image = { kind: 'x86', domain: { boot: 'snapshot', memoryMB: d.memoryMB, kernel: d.kernel, snapshot: d.snapshot } };
    const tasks = ['first', 'second'].map((word) => ({
      args: ['--cat', 'word.txt', '--cat', 'shared/lines.txt'], env: {}, stdin: '',
      inputFiles: [{ path: 'program', sha256: program }, { path: 'word.txt', inline: `${word}\n` }, { path: 'shared/lines.txt', sha256: sha256(binary) }],
    }));
    const spec = { name: 'x86 with inputs', image, tasks, timeLimitMs: 30_000 };
    const files = [linux.images.get(d.snapshot!)!, linux.images.get(program)!];
    // Every hashed input must be among the files the submitter serves.
    expect(await rejection(submitter!.command('compute', 'submit', { spec, files }))).toMatch(/^E_IMAGE_MISSING/);
    const { jobId } = (await submitter!.command('compute', 'submit', { spec, files: [...files, binary] })) as { jobId: string };
    await waitFor(() => ['done', 'failed'].includes(compute(submitter!).jobs[0]?.state ?? ''), 90_000, 'x86 job settled');
    const results = (await submitter!.command('compute', 'results', { jobId })) as ComputeTaskResult[];
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    results.forEach((r, i) => {
      expect(r.stdout).toContain(`file word.txt (${['first', 'second'][i]!.length + 1} bytes):\n${['first', 'second'][i]}\n`);
      expect(r.stdout).toContain('file shared/lines.txt (300 bytes):\nabcdefghij\n');
    });
    // The multiboot guest cannot take them: refused at submit.
    const multiboot = loadGuestSet('public/guests/multiboot');
    const mbSpec = {
      name: 'mb', image: { kind: 'x86', domain: multiboot.index.domain }, timeLimitMs: 5000,
      tasks: [{ args: ['echo', 'x'], env: {}, stdin: '', inputFiles: [{ path: 'a.txt', inline: 'x' }] }],
    };
    expect(await rejection(submitter!.command('compute', 'submit', { spec: mbSpec, files: [...multiboot.images.values()] })))
      .toMatch(/^E_X86_INPUT_FILES_UNSUPPORTED/);
  }, 120_000);
});
