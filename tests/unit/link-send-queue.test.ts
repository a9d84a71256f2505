/**
 * A link's two-lane send queue: small messages leave before the fragments of large frames queued earlier, each
 * lane keeps its order, a long run of small messages still lets the large frame move, the byte limit holds, and
 * what comes out — small frames between the chunks of large ones — reassembles into exactly the frames sent.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import { MAX_CHUNK_PAYLOAD, Reassembler, splitFrame } from '../../src/net/fragmenter.ts';
import { LinkSendQueue, URGENT_BURST_BYTES } from '../../src/net/link-send-queue.ts';

/** A frame whose first byte names it (so the tests can tell frames apart after reassembly). */
function frame(tag: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (tag * 37 + i * 13) & 0xff;
  out[0] = tag;
  return out;
}

function drain(queue: LinkSendQueue): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let m = queue.shift(); m; m = queue.shift()) out.push(m);
  return out;
}

/** Same messages (the very arrays) in the same order: cheaper than comparing 256 KiB contents. */
function expectSameOrder(got: readonly Uint8Array[], want: readonly (Uint8Array | undefined)[]): void {
  expect(got.length).toBe(want.length);
  expect(got.every((m, i) => m === want[i])).toBe(true);
}

function reassembleAll(chunks: readonly Uint8Array[]): Uint8Array[] {
  const r = new Reassembler();
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    const d = r.accept(c);
    if (!d.ok) throw new Error(`${d.code}: ${d.reason}`);
    if (d.value) out.push(d.value);
  }
  expect(r.waitingBytes).toBe(0);
  return out;
}

describe('link send queue', () => {
  it('sends small messages queued after a large frame before its fragments, each lane in order', () => {
    const q = new LinkSendQueue(64 * 1024 * 1024);
    const large = splitFrame(1, frame(1, 4 * MAX_CHUNK_PAYLOAD));
    expect(q.push('bulk', large)).toBe(true);
    const smalls = [2, 3, 4].map((tag) => splitFrame(tag, frame(tag, 100))[0]!);
    for (const s of smalls) q.push('urgent', [s]);
    expect(q.bytes).toBe([...large, ...smalls].reduce((n, m) => n + m.byteLength, 0));
    expectSameOrder(drain(q), [...smalls, ...large]);
    expect(q.isEmpty).toBe(true);
    expect(q.bytes).toBe(0);
  });

  it('puts a small message between the fragments of a large frame already under way', () => {
    const q = new LinkSendQueue(64 * 1024 * 1024);
    const large = splitFrame(1, frame(1, 5 * MAX_CHUNK_PAYLOAD));
    q.push('bulk', large);
    const sent = [q.shift()!, q.shift()!];
    const small = splitFrame(2, frame(2, 10))[0]!;
    q.push('urgent', [small]);
    sent.push(...drain(q));
    expectSameOrder(sent, [large[0], large[1], small, ...large.slice(2)]);
    const frames = reassembleAll(sent);
    expect(frames.map((f) => f[0])).toEqual([2, 1]);
  });

  it('keeps large frames in the order they were queued', () => {
    const q = new LinkSendQueue(64 * 1024 * 1024);
    const a = splitFrame(1, frame(1, 3 * MAX_CHUNK_PAYLOAD));
    const b = splitFrame(2, frame(2, 2 * MAX_CHUNK_PAYLOAD + 1));
    q.push('bulk', a);
    q.push('bulk', b);
    expectSameOrder(drain(q), [...a, ...b]);
  });

  it('lets one bulk message through after each long run of small ones', () => {
    const q = new LinkSendQueue(64 * 1024 * 1024);
    const large = splitFrame(1, frame(1, 3 * MAX_CHUNK_PAYLOAD));
    q.push('bulk', large);
    const smallSize = 64 * 1024;
    const count = Math.ceil((3 * URGENT_BURST_BYTES) / smallSize) + 4;
    for (let i = 0; i < count; i++) q.push('urgent', splitFrame(100 + i, frame(100 + i, smallSize)));
    const out = drain(q);
    const bulkAt = large.map((c) => out.indexOf(c));
    // Each bulk message follows at most URGENT_BURST_BYTES of urgent ones (plus the one that crossed the mark).
    let previous = -1;
    for (const at of bulkAt) {
      const urgentBytes = out.slice(previous + 1, at).reduce((n, m) => n + m.byteLength, 0);
      expect(urgentBytes).toBeLessThanOrEqual(URGENT_BURST_BYTES + smallSize + 64);
      previous = at;
    }
    expect(bulkAt.every((at, i) => i === 0 || at > bulkAt[i - 1]!)).toBe(true);
    expect(out.length).toBe(count + large.length);
  });

  it('refuses a push that would pass the byte limit and queues none of it', () => {
    const q = new LinkSendQueue(1000);
    expect(q.push('urgent', [new Uint8Array(600)])).toBe(true);
    expect(q.push('bulk', [new Uint8Array(300), new Uint8Array(300)])).toBe(false);
    expect(q.bytes).toBe(600);
    expect(drain(q)).toHaveLength(1);
    q.push('bulk', [new Uint8Array(10)]);
    q.clear();
    expect(q.isEmpty).toBe(true);
    expect(q.bytes).toBe(0);
  });

  it('a random mix of frames sent while the link drains comes back whole; small and large each in order', () => {
    const rng = createRng(42);
    const q = new LinkSendQueue(256 * 1024 * 1024);
    const sentSmall: number[] = [];
    const sentLarge: number[] = [];
    const originals = new Map<number, Uint8Array>();
    const wire: Uint8Array[] = [];
    for (let id = 1; id <= 120; id++) {
      const size = rng.next() < 0.25 ? MAX_CHUNK_PAYLOAD + rng.int(3 * MAX_CHUNK_PAYLOAD) : rng.int(2000);
      // Tags are the id modulo 256 in the first byte; keep the frames apart by their length and content too.
      const f = frame(id & 0xff, size + 1);
      originals.set(id, f);
      const chunks = splitFrame(id, f);
      q.push(chunks.length > 1 ? 'bulk' : 'urgent', chunks);
      (chunks.length > 1 ? sentLarge : sentSmall).push(id);
      for (let n = rng.int(4); n > 0; n--) {
        const m = q.shift();
        if (m) wire.push(m);
      }
    }
    wire.push(...drain(q));
    const received = reassembleAll(wire);
    const idOf = (f: Uint8Array): number => {
      for (const [id, o] of originals) if (o.byteLength === f.byteLength && Buffer.compare(o, f) === 0) return id;
      throw new Error('a frame that was never sent');
    };
    const ids = received.map(idOf);
    expect(ids.filter((id) => sentSmall.includes(id))).toEqual(sentSmall);
    expect(ids.filter((id) => sentLarge.includes(id))).toEqual(sentLarge);
    expect(new Set(ids).size).toBe(120);
    // And small frames did overtake: some small frame arrived before a large one sent earlier.
    expect(ids.some((id, i) => sentSmall.includes(id) && ids.slice(i + 1).some((later) => sentLarge.includes(later) && later < id))).toBe(true);
  });
});
