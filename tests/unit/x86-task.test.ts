/** Pure parts of x86 tasks: spec validation rules and the serial guest protocol parser. */
import { describe, expect, it } from 'vitest';
import { SerialCollector, linuxJobFiles, multibootCommandLine } from '../../src/compute/x86-guest-protocol.ts';
import { requiredImages, validateX86TaskSpec, type X86TaskSpec } from '../../src/compute/x86-task.ts';

const h = (c: string): string => c.repeat(64);
const linuxSpec: X86TaskSpec = {
  domain: { boot: 'linux', memoryMB: 96, kernel: h('a'), initrd: h('b'), bios: h('c'), vgaBios: h('d') },
  program: h('e'), args: ['x'], stdin: '', timeLimitMs: 10_000,
};

describe('validateX86TaskSpec', () => {
  it('accepts a complete linux cold boot and lists its images', () => {
    const checked = validateX86TaskSpec(linuxSpec);
    expect(checked.ok).toBe(true);
    expect(requiredImages(linuxSpec)).toEqual([h('a'), h('b'), h('c'), h('d'), h('e')]);
  });

  it('needs only the snapshot and the program when restoring', () => {
    const spec = { ...linuxSpec, domain: { boot: 'linux' as const, memoryMB: 96, kernel: h('a'), snapshot: h('f') } };
    expect(validateX86TaskSpec(spec).ok).toBe(true);
    expect(requiredImages(spec)).toEqual([h('f'), h('e')]);
  });

  it.each([
    ['a linux task without a program', { ...linuxSpec, program: undefined }],
    ['a linux cold boot without a BIOS', { ...linuxSpec, domain: { ...linuxSpec.domain, bios: undefined } }],
    ['linux RAM below initrd placement', { ...linuxSpec, domain: { ...linuxSpec.domain, memoryMB: 64 } }],
    ['a multiboot task with a program', { ...linuxSpec, domain: { boot: 'multiboot', memoryMB: 32, kernel: h('a') } }],
    ['multiboot args with a newline', { domain: { boot: 'multiboot', memoryMB: 32, kernel: h('a') }, args: ['a\nb'], stdin: '', timeLimitMs: 1000 }],
    ['an uppercase hash', { ...linuxSpec, program: h('E') }],
    ['a path as an output file', { ...linuxSpec, outputFiles: ['../etc/passwd'] }],
    ['a NUL in an argument', { ...linuxSpec, args: ['a\0b'] }],
    ['a time limit of 10 minutes and 1 ms', { ...linuxSpec, timeLimitMs: 600_001 }],
  ])('rejects %s with E_X86_BAD_SPEC', (_what, spec) => {
    const checked = validateX86TaskSpec(spec);
    expect(checked.ok ? 'accepted' : checked.code).toBe('E_X86_BAD_SPEC');
  });
});

describe('SerialCollector', () => {
  const feed = (c: SerialCollector, text: string, now = 0) =>
    [...new TextEncoder().encode(text)].map((b) => c.push(b, now)).filter((e) => e !== null);

  it('announces READY only before capture, then keeps the output up to the exit marker', () => {
    const c = new SerialCollector(1024);
    expect(feed(c, '[ 1.0] kernel noise\n@@NEPHELE READY@@\n')).toEqual([{ type: 'ready' }]);
    c.startCapture();
    expect(feed(c, 'h\u00e9llo\nno newline at end', 5)).toEqual([]);
    expect(feed(c, '\n@@NEPHELE EXIT 42@@\n')).toEqual([{ type: 'exit', status: 42 }]);
    expect(c.text()).toBe('h\u00e9llo\nno newline at end');
    expect(c.firstOutputAt).toBe(5);
  });

  it('does not take a marker printed without its leading line break for the end', () => {
    const c = new SerialCollector(1024);
    c.startCapture();
    expect(feed(c, 'x@@NEPHELE EXIT 1@@\n')).toEqual([]);
  });

  it('signals overflow once when the output passes the cap', () => {
    const c = new SerialCollector(4);
    c.startCapture();
    expect(feed(c, 'abcdefgh')).toEqual([{ type: 'overflow' }]);
    expect(c.text()).toBe('abcd');
  });

  it('encodes the job for each guest', () => {
    expect(multibootCommandLine(['primes', '10'])).toBe('primes 10\n');
    const files = linuxJobFiles(new Uint8Array([1]), ['a', 'b\n'], 'in');
    expect(files.map(([p]) => p)).toEqual(['/program', '/stdin', '/arg0', '/arg1']);
    expect(new TextDecoder().decode(files[3]![1])).toBe('b\n.');
  });
});
