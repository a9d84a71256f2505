/**
 * x86 tasks in v86 under Node, end to end through the worker-thread sandbox: the committed multiboot guest
 * (cold boot and booted snapshot), the time limit, image verification, and — when `npm run build:guests` has
 * built public/guests/linux — a static i386 program run by the Debian Linux guest restored from its snapshot.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runX86TaskInNode } from '../../src/compute/node-x86-sandbox.ts';
import { guestDomain, guestFileHash, x86GuestIndexSchema, type X86GuestIndex } from '../../src/compute/x86-guest-index.ts';
import type { X86TaskResult, X86TaskSpec } from '../../src/compute/x86-task.ts';

function loadGuestSet(dir: string): { index: X86GuestIndex; images: Map<string, Uint8Array> } {
  const index = x86GuestIndexSchema.parse(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')));
  const images = new Map(index.files.map((f) => [f.sha256, new Uint8Array(readFileSync(join(dir, f.sha256)))]));
  return { index, images };
}

function expectOk(result: X86TaskResult): Extract<X86TaskResult, { ok: true }> {
  if (!result.ok) throw new Error(`task failed: ${result.code} ${result.message}\n${result.serial}`);
  return result;
}

const multiboot = loadGuestSet('public/guests/multiboot');

describe('multiboot guest in v86 (Node worker thread)', () => {
  it('cold-boots and prints the result of its command', async () => {
    const spec: X86TaskSpec = { domain: guestDomain(multiboot.index, false), args: ['primes', '1000'], stdin: '', timeLimitMs: 20_000 };
    const result = expectOk(await runX86TaskInNode(spec, multiboot.images));
    expect(result.serial).toBe('primes up to 1000: 168\n');
    expect(result.exitStatus).toBe(0);
    expect(result.restoredFromSnapshot).toBe(false);
    expect(result.timings.firstOutputMs).not.toBeNull();
  });

  it('restores the booted snapshot, runs the command and reports its exit status', async () => {
    const domain = guestDomain(multiboot.index, true);
    const echo = expectOk(await runX86TaskInNode({ domain, args: ['echo', 'hi', 'there'], stdin: '', timeLimitMs: 20_000 }, multiboot.images));
    expect(echo.serial).toBe('hi there\n');
    expect(echo.restoredFromSnapshot).toBe(true);
    const exit = expectOk(await runX86TaskInNode({ domain, args: ['exit', '3'], stdin: '', timeLimitMs: 20_000 }, multiboot.images));
    expect(exit.exitStatus).toBe(3);
    expect(exit.serial).toBe('');
  });

  it('kills an endless guest at its time limit with E_X86_TIME_LIMIT', async () => {
    const started = performance.now();
    const result = await runX86TaskInNode(
      { domain: guestDomain(multiboot.index, true), args: ['loop'], stdin: '', timeLimitMs: 1500 }, multiboot.images);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.code).toBe('E_X86_TIME_LIMIT');
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('refuses an image whose bytes do not hash to its name', async () => {
    const domain = guestDomain(multiboot.index, false);
    const forged = new Map(multiboot.images);
    forged.set(domain.kernel, new Uint8Array(multiboot.images.get(domain.kernel)!).map((b, i) => (i === 100 ? b ^ 1 : b)));
    const result = await runX86TaskInNode({ domain, args: ['hello'], stdin: '', timeLimitMs: 5000 }, forged);
    expect(result.ok ? 'ok' : result.code).toBe('E_X86_IMAGE_MISMATCH');
  });

  it('rejects a bad spec and a missing image without starting a worker', async () => {
    const domain = guestDomain(multiboot.index, false);
    const bad = await runX86TaskInNode({ domain, args: ['a\nb'], stdin: '', timeLimitMs: 5000 }, multiboot.images);
    expect(bad.ok ? 'ok' : bad.code).toBe('E_X86_BAD_SPEC');
    const missing = await runX86TaskInNode({ domain, args: ['hello'], stdin: '', timeLimitMs: 5000 }, new Map());
    expect(missing.ok ? 'ok' : missing.code).toBe('E_X86_IMAGE_MISSING');
  });
});

const LINUX_DIR = 'public/guests/linux';
describe.skipIf(!existsSync(join(LINUX_DIR, 'index.json')))('Linux guest in v86 (built by npm run build:guests)', () => {
  it('restores the booted Debian kernel and runs a static i386 program with args, stdin and an output file', async () => {
    const linux = existsSync(join(LINUX_DIR, 'index.json')) ? loadGuestSet(LINUX_DIR) : multiboot;
    const spec: X86TaskSpec = {
      domain: guestDomain(linux.index, true),
      program: guestFileHash(linux.index, 'hello.i386'),
      args: ['two words', 'trailing newline\n', '--exit', '7'],
      stdin: 'one\ntwo\nthree\n',
      outputFiles: ['result.txt', 'absent.txt'],
      timeLimitMs: 30_000,
    };
    const result = expectOk(await runX86TaskInNode(spec, linux.images));
    expect(result.serial).toBe([
      'hello from i386 linux, argc=5',
      'arg[1]=two words',
      'arg[2]=trailing newline\n',
      'arg[3]=--exit',
      'arg[4]=7',
      'stdin: 3 lines, 14 bytes',
      '',
    ].join('\n'));
    expect(result.exitStatus).toBe(7);
    expect(result.files).toEqual({ 'result.txt': 'lines=3 bytes=14\n' });
    expect(result.restoredFromSnapshot).toBe(true);
  });
});
