import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import type { ProtocolContext } from '../../src/core/protocol.ts';
import { viewOf } from '../../src/protocols/peer-sampling/view.ts';
import { OrderedSlicing } from '../../src/protocols/slicing/ordered-slicing.ts';
import { Sliver } from '../../src/protocols/slicing/sliver.ts';
import { compareByAttribute, sliceIndex } from '../../src/protocols/slicing/slicer.ts';
import { samplingFloor, sliceDisorder, sortedValuesFloor } from '../../src/protocols/slicing/slice-disorder.ts';
import { decodeOrderedSlicingMessage, decodeSliverMessage, MAX_SLIVER_ATTRIBUTES, MAX_SLIVER_HEARD, type SliverMessage } from '../../src/wire/slicing.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const ctx = (self: string, seed = 1): ProtocolContext => ({ self, now: 0, rng: createRng(seed) });
const A = id(1), B = id(2), C = id(3);
/** A Sliver message with one section. */
const sliver = (t: 'sliver-push' | 'sliver-pull', attr: string, value: number, heard: [string, number][]): SliverMessage => ({ t, ranks: [{ attr, value, heard }] });

describe('slicer helpers', () => {
  it('sliceIndex counts the boundaries at or below the rank', () => {
    expect(sliceIndex(0, [0.7, 0.9])).toBe(0);
    expect(sliceIndex(0.69, [0.7, 0.9])).toBe(0);
    expect(sliceIndex(0.7, [0.7, 0.9])).toBe(1);
    expect(sliceIndex(0.95, [0.7, 0.9])).toBe(2);
    expect(sliceIndex(0.5, [])).toBe(0);
  });

  it('orders by value, then by peer id', () => {
    expect(compareByAttribute(1, B, 2, A)).toBeLessThan(0);
    expect(compareByAttribute(2, A, 2, B)).toBeLessThan(0);
    expect(compareByAttribute(2, B, 2, A)).toBeGreaterThan(0);
    expect(compareByAttribute(2, A, 2, A)).toBe(0);
  });
});

describe('OrderedSlicing (random-value swapping)', () => {
  const make = (value: number, rand: number, peers: string[]) =>
    new OrderedSlicing({ view: viewOf(() => peers), attribute: 'cpuScore', value: () => value, initialRand: rand });

  it('offers its value and random value to a peer from the view each tick', () => {
    const s = make(5, 0.25, [B]);
    expect(s.onTick(ctx(A))).toEqual([{ kind: 'send', to: B, msg: { t: 'swap-offer', attr: 'cpuScore', value: 5, rand: 0.25 } }]);
    expect(make(5, 0.25, []).onTick(ctx(A))).toEqual([]);
  });

  it('swaps when misplaced: the higher value ends with the higher random value', () => {
    const low = make(1, 0.8, [B]); // A: low attribute, high random value
    const high = make(9, 0.3, [A]); // B
    const [offer] = low.onTick(ctx(A));
    if (!offer || offer.kind !== 'send') throw new Error('expected an offer');
    const answer = high.onMessage(ctx(B), A, offer.msg);
    expect(answer).toHaveLength(1);
    const reply = answer[0]!;
    if (reply.kind !== 'send') throw new Error('expected a send');
    low.onMessage(ctx(A), B, reply.msg);
    expect(low.rankEstimate()).toBe(0.3);
    expect(high.rankEstimate()).toBe(0.8);
  });

  it('does not swap a pair already in order, nor across attributes', () => {
    const high = make(9, 0.9, [A]);
    expect(high.onMessage(ctx(B), A, { t: 'swap-offer', attr: 'cpuScore', value: 1, rand: 0.2 })).toEqual([]);
    expect(high.onMessage(ctx(B), A, { t: 'swap-offer', attr: 'memoryMB', value: 1, rand: 0.95 })).toEqual([]);
    expect(high.rankEstimate()).toBe(0.9);
  });

  it('breaks ties in value by peer id', () => {
    const b = make(5, 0.1, [A]); // B > A by id, so B must hold the larger random value
    const effects = b.onMessage(ctx(B), A, { t: 'swap-offer', attr: 'cpuScore', value: 5, rand: 0.6 });
    expect(effects).toHaveLength(1);
    expect(b.rankEstimate()).toBe(0.6);
  });

  it('ignores an answer for a random value it no longer holds (no duplicate value)', () => {
    const a = make(1, 0.8, [B]);
    a.onMessage(ctx(A), B, { t: 'swap-accept', attr: 'cpuScore', rand: 0.3, took: 0.5 });
    expect(a.rankEstimate()).toBe(0.8);
  });

  it('sorts a small network fully when every pair meets', () => {
    const values = [7, 3, 9, 1, 5];
    const peers = values.map((_, i) => id(i + 1));
    const nodes = values.map((v, i) => make(v, [0.1, 0.3, 0.5, 0.7, 0.9][i]!, peers.filter((_, j) => j !== i)));
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < nodes.length; i++) {
        for (let j = 0; j < nodes.length; j++) {
          if (i === j) continue;
          const offer = { t: 'swap-offer' as const, attr: 'cpuScore', value: values[i]!, rand: nodes[i]!.rankEstimate() };
          for (const e of nodes[j]!.onMessage(ctx(peers[j]!), peers[i]!, offer)) {
            if (e.kind === 'send') nodes[i]!.onMessage(ctx(peers[i]!), peers[j]!, e.msg);
          }
        }
      }
    }
    const byValue = values.map((v, i) => ({ v, r: nodes[i]!.rankEstimate() })).sort((x, y) => x.v - y.v);
    expect(byValue.map((x) => x.r)).toEqual([0.1, 0.3, 0.5, 0.7, 0.9]);
  });

  it('rejects a random value outside [0, 1)', () => {
    expect(() => make(1, 1, [])).toThrow(/E_SLICING_OPTIONS/);
  });
});

describe('Sliver', () => {
  const make = (value: number, peers: string[], extra: Partial<{ maxEntries: number; ttlCycles: number; relayPerMessage: number }> = {}) =>
    new Sliver({ view: viewOf(() => peers), attribute: 'cpuScore', value: () => value, ...extra });

  it('estimates its rank as the fraction of heard values below its own', () => {
    const s = make(50, []);
    s.onTick(ctx(A));
    expect(s.rankEstimate()).toBe(0);
    for (let i = 0; i < 4; i++) s.onMessage(ctx(A), id(10 + i), sliver('sliver-pull', 'cpuScore', i * 30, [])); // 0 30 60 90
    expect(s.rankEstimate()).toBeCloseTo(2 / 5);
    expect(s.sliceOf([0.3, 0.9])).toBe(1);
  });

  it('answers a push with its value and what it heard first-hand, and learns relayed values', () => {
    const s = make(50, []);
    s.onMessage(ctx(A), B, sliver('sliver-pull', 'cpuScore', 10, []));
    const effects = s.onMessage(ctx(A), C, sliver('sliver-push', 'cpuScore', 70, [[id(40), 20], [A, 1]]));
    expect(effects).toEqual([{ kind: 'send', to: C, msg: sliver('sliver-pull', 'cpuScore', 50, [[B, 10]]) }]);
    expect(s.sampleSize()).toBe(3); // B, C, id(40); never itself
    expect(s.rankEstimate()).toBeCloseTo(2 / 4);
  });

  it('counts a peer once, with its latest value', () => {
    const s = make(50, []);
    s.onMessage(ctx(A), B, sliver('sliver-pull', 'cpuScore', 10, []));
    s.onMessage(ctx(A), B, sliver('sliver-pull', 'cpuScore', 90, []));
    expect(s.sampleSize()).toBe(1);
    expect(s.rankEstimate()).toBe(0);
  });

  it('forgets peers after ttlCycles, keeps at most maxEntries, and drops a peer reported down', () => {
    const s = make(50, [], { ttlCycles: 2, maxEntries: 3 });
    for (let i = 0; i < 5; i++) s.onMessage(ctx(A), id(10 + i), sliver('sliver-pull', 'cpuScore', i, []));
    expect(s.sampleSize()).toBe(3);
    s.onPeerDown(ctx(A), id(14));
    expect(s.sampleSize()).toBe(2);
    s.onTick(ctx(A));
    s.onTick(ctx(A));
    expect(s.sampleSize()).toBe(2);
    s.onTick(ctx(A));
    expect(s.sampleSize()).toBe(0);
  });

  it('pushes to peers from the view and ignores other attributes', () => {
    const s = make(5, [B, C], { relayPerMessage: 0 });
    const effects = s.onTick(ctx(A));
    expect(effects.map((e) => (e.kind === 'send' ? e.to : null)).sort()).toEqual([B, C]);
    expect(s.onMessage(ctx(A), B, sliver('sliver-push', 'memoryMB', 1, []))).toEqual([]);
    expect(s.sampleSize()).toBe(0);
  });

  it('ranks several attributes in one exchange, each with its own estimate', () => {
    let mem = 2048;
    const s = new Sliver({ view: viewOf(() => [B, C]), attribute: 'cpuScore', value: () => 50, moreAttributes: [{ attribute: 'memoryMB', value: () => mem }] });
    const pushes = s.onTick(ctx(A));
    expect(pushes).toHaveLength(2);
    for (const e of pushes) expect(e.kind === 'send' && e.msg.ranks.map((r) => [r.attr, r.value])).toEqual([['cpuScore', 50], ['memoryMB', 2048]]);
    // B is below on cpu and above on memory; an unknown attribute's section is ignored, the known one used.
    const reply = s.onMessage(ctx(A), B, { t: 'sliver-push', ranks: [{ attr: 'cpuScore', value: 10, heard: [] }, { attr: 'memoryMB', value: 4096, heard: [] }, { attr: 'gpu', value: 1, heard: [] }] });
    expect(reply).toHaveLength(1);
    expect(s.rankEstimate('cpuScore')).toBeCloseTo(1 / 2);
    expect(s.rankEstimate()).toBeCloseTo(1 / 2);
    expect(s.rankEstimate('memoryMB')).toBe(0);
    mem = 8192;
    expect(s.rankEstimate('memoryMB')).toBeCloseTo(1 / 2);
    s.onMessage(ctx(A), C, { t: 'sliver-pull', ranks: [{ attr: 'memoryMB', value: 1024, heard: [] }] });
    expect([s.sampleSize('cpuScore'), s.sampleSize('memoryMB')]).toEqual([1, 2]);
    expect(() => s.rankEstimate('gpu')).toThrow(/E_SLIVER_UNKNOWN_ATTRIBUTE/);
  });

  it('backs off while its estimate stands still, and pushes every cycle again on any change', () => {
    let value = 50;
    const s = new Sliver({ view: viewOf(() => [B, C]), attribute: 'cpuScore', value: () => value, maxPushIntervalCycles: 8 });
    s.onMessage(ctx(A), B, sliver('sliver-pull', 'cpuScore', 10, []));
    const pushed: boolean[] = [];
    const cycles = (n: number) => { for (let i = 0; i < n; i++) pushed.push(s.onTick(ctx(A, i)).length > 0); };
    cycles(24);
    // Change seen on the first cycle, then pushes 1, 2, 4, 8, 8 cycles apart.
    expect(pushed.flatMap((p, i) => (p ? [i] : []))).toEqual([0, 1, 3, 7, 15, 23]);
    expect(s.currentPushInterval()).toBe(8);
    // Answers never wait for the back-off.
    expect(s.onMessage(ctx(A), B, sliver('sliver-push', 'cpuScore', 10, []))).toHaveLength(1);
    const nextPushAfter = (change: () => void): number => {
      cycles(30);
      change();
      pushed.length = 0;
      cycles(1);
      return s.currentPushInterval() === 1 && pushed[0] ? 1 : 0;
    };
    expect(nextPushAfter(() => s.onMessage(ctx(A), C, sliver('sliver-pull', 'cpuScore', 90, [])))).toBe(1); // a new peer
    expect(nextPushAfter(() => s.onPeerDown(ctx(A), C))).toBe(1); // a departed one
    expect(nextPushAfter(() => (value = 5))).toBe(1); // its own value moved
    cycles(30);
    expect(s.currentPushInterval()).toBe(8);
  });
});

describe('slice disorder', () => {
  const nodes = (estimates: number[]) => estimates.map((estimate, i) => ({ peer: id(i + 1), value: i, estimate }));

  it('is zero when every estimate is in the true slice and counts distance otherwise', () => {
    expect(sliceDisorder(nodes([0, 0.1, 0.6, 0.8]), [0.5])).toEqual({ meanDistance: 0, wrongFraction: 0 });
    expect(sliceDisorder(nodes([0.9, 0.1, 0.6, 0.8]), [0.25, 0.5, 0.75])).toEqual({ meanDistance: 1, wrongFraction: 0.5 });
  });

  it('the sorted floor matches the estimates rearranged in true order', () => {
    const floor = sortedValuesFloor(nodes([0.9, 0.05, 0.3, 0.45]), [0.5]);
    expect(floor).toEqual(sliceDisorder(nodes([0.05, 0.3, 0.45, 0.9]), [0.5]));
    expect(floor.wrongFraction).toBe(0.25);
  });

  it('the sampling floor shrinks as samples grow and vanishes when all are known', () => {
    const n = 1000;
    const few = samplingFloor(Array(n).fill(50), [0.9]);
    const many = samplingFloor(Array(n).fill(500), [0.9]);
    expect(few).toBeGreaterThan(many);
    expect(samplingFloor(Array(n).fill(n - 1), [0.9])).toBe(0);
  });
});

describe('slicing wire', () => {
  it('accepts well-formed messages', () => {
    expect(decodeOrderedSlicingMessage({ t: 'swap-offer', attr: 'cpuScore', value: 3.5, rand: 0.2 }).ok).toBe(true);
    expect(decodeOrderedSlicingMessage({ t: 'swap-accept', attr: 'cpuScore', rand: 0.2, took: 0 }).ok).toBe(true);
    expect(decodeSliverMessage(sliver('sliver-push', 'cpuScore', 1, [[A, 2]])).ok).toBe(true);
  });

  it('rejects with named codes', () => {
    const code = (d: { ok: boolean; code?: string }) => (d.ok ? 'ok' : d.code);
    expect(code(decodeOrderedSlicingMessage(null))).toBe('E_SLICING_MALFORMED');
    expect(code(decodeOrderedSlicingMessage({ t: 'swap-offer', attr: 'cpuScore', value: 1, rand: 1 }))).toBe('E_SLICING_BAD_VALUE');
    expect(code(decodeOrderedSlicingMessage({ t: 'swap-offer', attr: 'cpuScore', value: Number.NaN, rand: 0 }))).toBe('E_SLICING_BAD_VALUE');
    expect(code(decodeOrderedSlicingMessage({ t: 'swap-offer', attr: '9bad', value: 1, rand: 0 }))).toBe('E_SLICING_BAD_ATTRIBUTE');
    expect(code(decodeOrderedSlicingMessage({ t: 'swap-offer', attr: 'x', value: 1, rand: 0, extra: 1 }))).toBe('E_SLICING_MALFORMED');
    expect(code(decodeOrderedSlicingMessage({ t: 'nope' }))).toBe('E_SLICING_MALFORMED');
    expect(code(decodeSliverMessage(sliver('sliver-push', 'x', 1, [['zz', 1]])))).toBe('E_BAD_PEER_ID');
    expect(code(decodeSliverMessage(sliver('sliver-push', 'x', 1, [[A, Infinity]])))).toBe('E_SLICING_BAD_VALUE');
    const many = Array.from({ length: MAX_SLIVER_HEARD + 1 }, (_, i) => [id(i + 1), 1]);
    expect(code(decodeSliverMessage(sliver('sliver-push', 'x', 1, many as [string, number][])))).toBe('E_SLICING_TOO_MANY_ENTRIES');
    // Sliver v2: sections per attribute; the v1 shape, no section, too many, or a bad one are refused by name.
    expect(code(decodeSliverMessage({ t: 'sliver-push', attr: 'x', value: 1, heard: [] }))).toBe('E_SLICING_MALFORMED');
    expect(code(decodeSliverMessage({ t: 'sliver-push', ranks: [] }))).toBe('E_SLICING_MALFORMED');
    const sections = Array.from({ length: MAX_SLIVER_ATTRIBUTES + 1 }, (_, i) => ({ attr: `a${i}`, value: 1, heard: [] }));
    expect(code(decodeSliverMessage({ t: 'sliver-pull', ranks: sections }))).toBe('E_SLICING_TOO_MANY_ATTRIBUTES');
    expect(code(decodeSliverMessage({ t: 'sliver-pull', ranks: [{ attr: 'ok', value: 1, heard: [] }, { attr: '9bad', value: 1, heard: [] }] }))).toBe('E_SLICING_BAD_ATTRIBUTE');
    expect(code(decodeSliverMessage({ t: 'sliver-pull', ranks: [{ attr: 'ok', value: 1, heard: many }] }))).toBe('E_SLICING_TOO_MANY_ENTRIES');
  });
});
