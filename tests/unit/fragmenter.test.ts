/** Frames split into ≤ 256 KiB channel messages and come back whole; malformed or oversize input is refused. */
import { describe, expect, it } from 'vitest';
import { CHUNK_HEADER_BYTES, MAX_CHANNEL_MESSAGE_BYTES, Reassembler, splitFrame } from '../../src/net/fragmenter.ts';

function bytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(a, b) === 0;
}

function reassemble(chunks: Uint8Array[], r = new Reassembler()): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    const d = r.accept(c);
    if (!d.ok) throw new Error(d.code);
    if (d.value) out.push(d.value);
  }
  return out;
}

describe('fragmenter', () => {
  it('keeps every chunk within the data channel message limit and restores the frame', () => {
    const frame = bytes(3 * 1024 * 1024 + 12345);
    const chunks = splitFrame(1, frame);
    expect(chunks.length).toBe(Math.ceil(frame.byteLength / (MAX_CHANNEL_MESSAGE_BYTES - CHUNK_HEADER_BYTES)));
    for (const c of chunks) expect(c.byteLength).toBeLessThanOrEqual(MAX_CHANNEL_MESSAGE_BYTES);
    const [whole] = reassemble(chunks);
    expect(same(whole, frame)).toBe(true);
  });

  it('sends small and empty frames as one chunk', () => {
    for (const n of [0, 1, 1000]) {
      const chunks = splitFrame(9, bytes(n));
      expect(chunks.length).toBe(1);
      expect(reassemble(chunks)).toEqual([bytes(n)]);
    }
  });

  it('reassembles consecutive frames and releases their memory', () => {
    const r = new Reassembler();
    const a = bytes(600_000, 1);
    const b = bytes(10, 2);
    const out = reassemble([...splitFrame(1, a), ...splitFrame(2, b)], r);
    expect(out.length).toBe(2);
    expect(same(out[0], a) && same(out[1], b)).toBe(true);
    expect(r.waitingBytes).toBe(0);
  });

  it('refuses a frame over the reassembly limit', () => {
    const r = new Reassembler(1000);
    const [first] = splitFrame(1, bytes(2000), 500);
    const d = r.accept(first!);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.code).toBe('E_FRAGMENT_TOO_LARGE');
  });

  it('refuses when pending frames together exceed the limit', () => {
    const r = new Reassembler(1000);
    expect(r.accept(splitFrame(1, bytes(800), 100)[0]!).ok).toBe(true);
    const d = r.accept(splitFrame(2, bytes(800), 100)[0]!);
    expect(d.ok ? 'ok' : d.code).toBe('E_REASSEMBLY_FULL');
  });

  it('refuses out-of-order, short and inconsistent chunks', () => {
    const chunks = splitFrame(5, bytes(1000), 100);
    const r = new Reassembler();
    const skipped = r.accept(chunks[1]!);
    expect(skipped.ok ? 'ok' : skipped.code).toBe('E_FRAGMENT_MALFORMED');
    expect(r.accept(chunks[0]!).ok).toBe(true);
    const gap = r.accept(chunks[2]!);
    expect(gap.ok ? 'ok' : gap.code).toBe('E_FRAGMENT_MALFORMED');
    expect(r.waitingBytes).toBe(0);
    const short = r.accept(new Uint8Array([2, 0, 0]));
    expect(short.ok ? 'ok' : short.code).toBe('E_FRAGMENT_MALFORMED');
    const lying = splitFrame(6, bytes(300), 100);
    new DataView(lying[1]!.buffer).setUint32(5, 999);
    expect(r.accept(lying[0]!).ok).toBe(true);
    const changed = r.accept(lying[1]!);
    expect(changed.ok ? 'ok' : changed.code).toBe('E_FRAGMENT_MALFORMED');
  });

  it('writes the header big-endian, message ids up to 2^32 - 1 included', () => {
    const [chunk] = splitFrame(0xfffffffe, bytes(5));
    const view = new DataView(chunk!.buffer);
    expect([chunk![0], view.getUint32(1), view.getUint32(5), view.getUint32(9)]).toEqual([2, 0xfffffffe, 5, 0]);
    const chunks = splitFrame(0xffffffff, bytes(250), 100);
    expect(chunks.map((c) => new DataView(c.buffer).getUint32(9))).toEqual([0, 100, 200]);
    const [whole] = reassemble(chunks);
    expect(same(whole, bytes(250))).toBe(true);
  });

  it('returns a one-chunk frame as a view into the chunk it came in (no copy)', () => {
    const [chunk] = splitFrame(3, bytes(64));
    const d = new Reassembler().accept(chunk!);
    if (!d.ok || !d.value) throw new Error('not reassembled');
    expect(d.value.buffer).toBe(chunk!.buffer);
    expect(d.value.byteOffset).toBe(CHUNK_HEADER_BYTES);
    expect(same(d.value, bytes(64))).toBe(true);
  });
});
