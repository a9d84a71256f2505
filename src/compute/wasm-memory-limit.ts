/**
 * Caps a WebAssembly module's linear memory by rewriting its binary: every memory it defines (memory section)
 * or imports (import section) gets a declared maximum of at most the limit, in 64 KiB pages, so `memory.grow`
 * past the limit returns -1 inside the guest (malloc fails) instead of taking the host's memory. A module whose
 * initial memory is already over the limit is refused with E_MEMORY_LIMIT.
 *
 * Binary format: WebAssembly Core Specification §5 (sections §5.5, limits §5.3.8; the threads and memory64
 * proposals add limit flags 0x02 shared and 0x04 64-bit). Pure; never throws.
 */
import { accept, reject, type Decoded } from '../core/errors.ts';

export const WASM_PAGE_BYTES = 64 * 1024;
const MAGIC_AND_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const LIMIT_HAS_MAX = 0x01;
const LIMIT_KNOWN_FLAGS = 0x07;

export function pagesForMiB(mib: number): number {
  return Math.floor((mib * 1024 * 1024) / WASM_PAGE_BYTES);
}

export function isWasmBinary(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 8 && MAGIC_AND_VERSION.every((b, i) => bytes[i] === b);
}

class Malformed extends Error {}
class OverLimit extends Error {}

/** A cursor over bytes that throws Malformed on anything unexpected (caught at the top). */
class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, start = 0, readonly end = bytes.byteLength) {
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.end) throw new Malformed('unexpected end of data');
    return this.bytes[this.pos++]!;
  }
  /** Unsigned LEB128 of at most maxBits bits, as a JS number (exact up to 2^53). */
  uleb(maxBits = 32): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < Math.ceil(maxBits / 7); i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) throw new Malformed('integer too large');
        return result;
      }
      scale *= 128;
    }
    throw new Malformed('LEB128 integer too long');
  }
  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new Malformed('length runs past the end');
    this.pos += n;
  }
  name(): void {
    this.skip(this.uleb());
  }
}

export function encodeUleb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Reads limits at the cursor and returns their capped encoding. */
function cappedLimits(r: Reader, maxPages: number, isMemory: boolean): number[] {
  const flags = r.byte();
  if ((flags & ~LIMIT_KNOWN_FLAGS) !== 0) throw new Malformed(`unknown limits flags 0x${flags.toString(16)}`);
  const bits = flags & 0x04 ? 64 : 32;
  const min = r.uleb(bits);
  const max = flags & LIMIT_HAS_MAX ? r.uleb(bits) : null;
  if (!isMemory) return [flags, ...encodeUleb(min), ...(max === null ? [] : encodeUleb(max))];
  if (min > maxPages) throw new OverLimit(`initial memory ${min} pages exceeds the limit of ${maxPages} pages`);
  const capped = max === null ? maxPages : Math.min(max, maxPages);
  return [flags | LIMIT_HAS_MAX, ...encodeUleb(min), ...encodeUleb(capped)];
}

function skipValtype(r: Reader): void {
  const t = r.byte();
  // Typed function references (0x63/0x64) carry a heap type after them.
  if (t === 0x63 || t === 0x64) r.uleb(33);
}

function rewriteImportSection(r: Reader, maxPages: number): number[] {
  const out: number[] = [];
  const count = r.uleb();
  out.push(...encodeUleb(count));
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    r.name();
    r.name();
    const kind = r.byte();
    out.push(...r.bytes.subarray(start, r.pos));
    const descStart = r.pos;
    switch (kind) {
      case 0x00: // function: type index
        r.uleb();
        out.push(...r.bytes.subarray(descStart, r.pos));
        break;
      case 0x01: // table: reftype + limits
        skipValtype(r);
        out.push(...r.bytes.subarray(descStart, r.pos), ...cappedLimits(r, maxPages, false));
        break;
      case 0x02: // memory
        out.push(...cappedLimits(r, maxPages, true));
        break;
      case 0x03: // global: valtype + mutability
        skipValtype(r);
        r.byte();
        out.push(...r.bytes.subarray(descStart, r.pos));
        break;
      case 0x04: // tag (exception handling): attribute + type index
        r.byte();
        r.uleb();
        out.push(...r.bytes.subarray(descStart, r.pos));
        break;
      default:
        throw new Malformed(`unknown import kind 0x${kind.toString(16)}`);
    }
  }
  if (r.pos !== r.end) throw new Malformed('import section has trailing bytes');
  return out;
}

function rewriteMemorySection(r: Reader, maxPages: number): number[] {
  const count = r.uleb();
  const out = encodeUleb(count);
  for (let i = 0; i < count; i++) out.push(...cappedLimits(r, maxPages, true));
  if (r.pos !== r.end) throw new Malformed('memory section has trailing bytes');
  return out;
}

/**
 * Returns a copy of `wasm` whose memories may never exceed `maxPages` pages.
 * Rejects: E_NOT_WASM (not a WebAssembly binary, or sections malformed), E_MEMORY_LIMIT (initial memory too big).
 */
export function limitWasmMemory(wasm: Uint8Array, maxPages: number): Decoded<Uint8Array> {
  if (!isWasmBinary(wasm)) return reject('E_NOT_WASM', 'the module does not start with the WebAssembly magic number and version 1');
  if (!Number.isInteger(maxPages) || maxPages < 0 || maxPages > 65536) return reject('E_BAD_SPEC', `memory limit of ${maxPages} pages`);
  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  try {
    const r = new Reader(wasm, 8);
    while (r.pos < wasm.byteLength) {
      const sectionStart = r.pos;
      const id = r.byte();
      const size = r.uleb();
      const contentStart = r.pos;
      r.skip(size);
      if (id !== SECTION_IMPORT && id !== SECTION_MEMORY) {
        parts.push(wasm.subarray(sectionStart, r.pos));
        continue;
      }
      const content = new Reader(wasm, contentStart, contentStart + size);
      const rewritten = id === SECTION_IMPORT ? rewriteImportSection(content, maxPages) : rewriteMemorySection(content, maxPages);
      parts.push(Uint8Array.from([id, ...encodeUleb(rewritten.length), ...rewritten]));
    }
  } catch (err) {
    if (err instanceof OverLimit) return reject('E_MEMORY_LIMIT', err.message);
    if (err instanceof Malformed) return reject('E_NOT_WASM', `malformed module: ${err.message}`);
    return reject('E_NOT_WASM', `malformed module: ${String(err)}`);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return accept(out);
}
