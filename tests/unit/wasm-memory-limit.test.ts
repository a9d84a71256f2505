import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeUleb, limitWasmMemory, pagesForMiB } from '../../src/compute/wasm-memory-limit.ts';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const str = (s: string) => [s.length, ...new TextEncoder().encode(s)];
const section = (id: number, content: number[]) => [id, ...encodeUleb(content.length), ...content];
const module = (...sections: number[][]) => Uint8Array.from([...HEADER, ...sections.flat()]);
const exportMemory = section(7, [1, ...str('memory'), 0x02, 0]);
/** A module defining one memory with the given limits bytes and exporting it. */
const definedMemory = (limits: number[]) => module(section(5, [1, ...limits]), exportMemory);

async function memoryOf(bytes: Uint8Array): Promise<WebAssembly.Memory> {
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>);
  return instance.exports['memory'] as WebAssembly.Memory;
}

function limited(bytes: Uint8Array, pages: number): Uint8Array {
  const r = limitWasmMemory(bytes, pages);
  if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
  return r.value;
}

describe('limitWasmMemory', () => {
  it('adds a maximum to a memory that has none, so growing past the limit fails', async () => {
    const mem = await memoryOf(limited(definedMemory([0x00, 1]), 4));
    expect(mem.grow(3)).toBe(1);
    expect(() => mem.grow(1)).toThrow(RangeError);
    expect(mem.buffer.byteLength).toBe(4 * 65536);
  });

  it('lowers a larger declared maximum (multi-byte LEB128) and keeps a smaller one', async () => {
    const big = await memoryOf(limited(definedMemory([0x01, 1, ...encodeUleb(40000)]), 16));
    expect(() => big.grow(16)).toThrow(RangeError);
    expect(big.grow(15)).toBe(1);
    const small = await memoryOf(limited(definedMemory([0x01, 1, 3]), 16));
    expect(() => small.grow(3)).toThrow(RangeError);
    expect(small.grow(2)).toBe(1);
  });

  it('refuses a module whose initial memory is over the limit with E_MEMORY_LIMIT', () => {
    const r = limitWasmMemory(definedMemory([0x00, ...encodeUleb(300)]), 256);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('E_MEMORY_LIMIT');
  });

  it('caps an imported memory and leaves other imports intact', async () => {
    const imports = section(2, [
      4,
      ...str('env'), ...str('t'), 0x01, 0x70, 0x00, 1, // table funcref min 1
      ...str('env'), ...str('g'), 0x03, 0x7f, 0x00, // global i32 const
      ...str('env'), ...str('mem'), 0x02, 0x00, 2, // memory min 2, no max
      ...str('env'), ...str('g2'), 0x03, 0x7e, 0x01, // global i64 mut
    ]);
    const original = module(imports);
    const env = () => ({
      t: new WebAssembly.Table({ initial: 1, element: 'anyfunc' }),
      g: new WebAssembly.Global({ value: 'i32', mutable: false }, 1),
      g2: new WebAssembly.Global({ value: 'i64', mutable: true }, 1n),
    });
    // Unlimited host memory links with the original but not with the capped module (its max must be <= 8).
    await expect(WebAssembly.instantiate(original, { env: { ...env(), mem: new WebAssembly.Memory({ initial: 2 }) } })).resolves.toBeDefined();
    const capped = limited(original, 8) as Uint8Array<ArrayBuffer>;
    await expect(WebAssembly.instantiate(capped, { env: { ...env(), mem: new WebAssembly.Memory({ initial: 2 }) } })).rejects.toThrow();
    await expect(WebAssembly.instantiate(capped, { env: { ...env(), mem: new WebAssembly.Memory({ initial: 2, maximum: 8 }) } })).resolves.toBeDefined();
  });

  it('rejects non-WebAssembly and truncated input with E_NOT_WASM', () => {
    for (const bad of [new TextEncoder().encode('#!/bin/sh\necho hi\n'), new Uint8Array(0), definedMemory([0x00, 1]).subarray(0, 12)]) {
      const r = limitWasmMemory(bad, 16);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toBe('E_NOT_WASM');
    }
  });

  it('keeps every section of a real clang-built module valid and caps its memory', async () => {
    for (const name of ['hello', 'alloc', 'primes']) {
      const wasm = readFileSync(`public/examples/${name}.wasm`);
      const out = limited(wasm, pagesForMiB(16));
      expect(WebAssembly.validate(out as Uint8Array<ArrayBuffer>)).toBe(true);
      const mod = await WebAssembly.compile(out as Uint8Array<ArrayBuffer>);
      expect(WebAssembly.Module.exports(mod).map((e) => e.name)).toEqual(
        WebAssembly.Module.exports(await WebAssembly.compile(wasm)).map((e) => e.name),
      );
    }
    // One page is below the initial memory clang gives a command (64 KiB stack plus data), so it is refused.
    const tooSmall = limitWasmMemory(readFileSync('public/examples/alloc.wasm'), 1);
    expect(tooSmall.ok ? 'accepted' : tooSmall.code).toBe('E_MEMORY_LIMIT');
  });

  it('converts MiB to 64 KiB pages', () => {
    expect(pagesForMiB(1)).toBe(16);
    expect(pagesForMiB(4096)).toBe(65536);
  });
});
