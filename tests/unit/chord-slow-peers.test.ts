/**
 * Chord among slow peers (silence-detector.ts and the late answers in chord.ts): a neighbour taken for dead that
 * answers after all makes the reply timeout grow, a lookup answered after it was given up on makes the lookup
 * timeout grow, and a join answered late still gives the node its successor. With the default options the
 * timeouts stay fixed, as in the Chord paper. Also: adaptive rounds still run the merge check when they fall on
 * odd ticks.
 */
import { describe, expect, it } from 'vitest';
import { Chord } from '../../src/protocols/chord/chord.ts';
import { GrowingTimeout, ON_TIME_TO_SHRINK, SilenceDetector } from '../../src/protocols/chord/silence-detector.ts';
import { hexOf } from '../../src/protocols/chord/ring.ts';
import { createRng } from '../../src/core/rng.ts';
import { viewOf } from '../../src/protocols/peer-sampling/view.ts';
import type { Effect, ProtocolContext } from '../../src/core/protocol.ts';
import type { ChordMessage } from '../../src/wire/chord.ts';

const id = (n: bigint): string => hexOf(n);
const ctxOf = (self: string): ProtocolContext => ({ self, now: 0, rng: createRng(1) });
const sends = (effects: Effect<ChordMessage>[]) => effects.flatMap((e) => (e.kind === 'send' ? [{ to: e.to, msg: e.msg }] : []));

describe('SilenceDetector and GrowingTimeout', () => {
  it('a fixed timeout (max = base) never grows; a growing one doubles per late answer, up to its cap', () => {
    const fixed = new GrowingTimeout(3);
    fixed.late();
    expect(fixed.ticks).toBe(3);
    const growing = new GrowingTimeout(10, 60);
    for (const want of [20, 40, 60, 60]) {
      growing.late();
      expect(growing.ticks).toBe(want);
    }
    expect(() => new GrowingTimeout(10, 5)).toThrow(/E_CHORD_OPTIONS/);
  });

  it('a grown timeout halves back towards its base after ON_TIME_TO_SHRINK answers in time in a row', () => {
    const t = new GrowingTimeout(10, 60);
    t.late();
    t.late(); // 40
    for (let i = 1; i < ON_TIME_TO_SHRINK; i++) t.onTime();
    expect(t.ticks).toBe(40);
    t.late(); // 60, and the run of answers in time starts again
    for (let i = 1; i < ON_TIME_TO_SHRINK; i++) t.onTime();
    expect(t.ticks).toBe(60);
    t.onTime();
    expect(t.ticks).toBe(30);
    for (let i = 0; i < 3 * ON_TIME_TO_SHRINK; i++) t.onTime();
    expect(t.ticks).toBe(10); // 15, then the base, never below
    const d = new SilenceDetector(3, 12);
    d.expect('pred', id(1n), 0);
    d.overdue(3);
    d.heard(id(1n));
    expect(d.timeoutTicks).toBe(6);
    for (let i = 0; i < ON_TIME_TO_SHRINK; i++) {
      d.expect('pong', id(2n), i);
      d.answered('pong', id(2n));
    }
    expect(d.timeoutTicks).toBe(3);
  });

  it('takes a silent peer for dead after the timeout, and waits twice as long once it turns out alive', () => {
    const d = new SilenceDetector(3, 12);
    const a = id(1n), b = id(2n);
    d.expect('pred', a, 0);
    d.expect('pong', b, 1);
    expect(d.overdue(2)).toEqual([]);
    expect(d.overdue(3)).toEqual([a]);
    expect(d.awaiting('pred')).toBeUndefined();
    expect(d.awaiting('pong')).toBe(b);
    d.answered('pong', b);
    expect(d.awaiting('pong')).toBeUndefined();
    d.heard(b); // never suspected: nothing changes
    expect(d.timeoutTicks).toBe(3);
    d.heard(a); // suspected, yet alive
    expect(d.timeoutTicks).toBe(6);
    expect(d.falseSuspicions).toBe(1);
    d.heard(a); // counted once
    expect(d.timeoutTicks).toBe(6);
    d.expect('pred', a, 10);
    expect(d.overdue(15)).toEqual([]);
    expect(d.overdue(16)).toEqual([a]);
  });

  it('with a fixed timeout keeps no suspects', () => {
    const d = new SilenceDetector(3);
    d.expect('pred', id(1n), 0);
    expect(d.overdue(3)).toEqual([id(1n)]);
    d.heard(id(1n));
    expect(d.timeoutTicks).toBe(3);
    expect(d.falseSuspicions).toBe(0);
  });
});

describe('Chord among slow peers', () => {
  it('a successor dropped for silence that answers later doubles the reply timeout (when allowed to grow)', () => {
    for (const [max, want] of [[undefined, 3], [24, 6]] as const) {
      const a = id(100n), b = id(900n);
      const ca = new Chord(a, { maxReplyTimeoutTicks: max });
      ca.adoptSuccessor(b);
      const first = sends(ca.onTick(ctxOf(a)));
      expect(first).toContainEqual({ to: b, msg: { t: 'get-pred' } });
      let dropped = false;
      for (let t = 0; t < 5 && !dropped; t++) {
        const effects = ca.onTick(ctxOf(a));
        dropped = effects.some((e) => e.kind === 'log' && e.text.startsWith('E_CHORD_SILENT'));
      }
      expect(dropped).toBe(true);
      expect(ca.successor()).toBeUndefined();
      // b's answer arrives late: b is alive.
      ca.onMessage(ctxOf(a), b, { t: 'pred', pred: a, succs: [a] });
      expect(ca.silence.timeoutTicks).toBe(want);
    }
  });

  it('a join answered after its lookup timed out still gives the node its successor', () => {
    const a = id(100n), b = id(900n);
    const ca = new Chord(a, { view: viewOf(() => [b]) });
    const join = sends(ca.onTick(ctxOf(a)));
    expect(join).toEqual([{ to: b, msg: { t: 'find', id: expect.any(Number), key: a, origin: a, hops: 1 } }]);
    const findId = (join[0]!.msg as { id: number }).id;
    for (let t = 0; t < 4; t++) ca.onTick(ctxOf(a)); // the join lookup times out (4 ticks) and is dropped
    ca.onMessage(ctxOf(a), b, { t: 'found', id: findId, key: a, owner: b, hops: 1 });
    expect(ca.successor()).toBe(b);
  });

  it('lookups answered after they were given up on make the lookup timeout grow (only when allowed to)', () => {
    const a = id(100n), b = id(900n);
    const overdueAfter = (max: number | undefined): number => {
      const ca = new Chord(a, { maxLookupTimeoutTicks: max, replyTimeoutTicks: 100 }); // b stays the successor though silent
      ca.adoptSuccessor(b);
      // A lookup given up on (3 attempts of 4 ticks) whose answer comes late.
      const first = sends(ca.lookup(ctxOf(a), id(5000n), 'late'))[0]!.msg as { id: number };
      for (let t = 0; t < 12; t++) ca.onTick(ctxOf(a));
      expect(ca.takeCompleted()).toEqual([expect.objectContaining({ ok: false, requestId: 'late', code: 'E_CHORD_LOOKUP_TIMEOUT' })]);
      ca.onMessage(ctxOf(a), b, { t: 'found', id: first.id, key: id(5000n), owner: b, hops: 1 });
      // A lookup through b (the key lies past b) is retried once its timeout has passed.
      const key = id(2000n);
      const sent = sends(ca.lookup(ctxOf(a), key, 'r'));
      expect(sent).toEqual([{ to: b, msg: { t: 'find', id: expect.any(Number), key, origin: a, hops: 1 } }]);
      for (let t = 1; t <= 20; t++) {
        if (sends(ca.onTick(ctxOf(a))).some((s) => s.msg.t === 'find' && s.msg.key === key)) return t;
      }
      return NaN;
    };
    expect(overdueAfter(undefined)).toBe(4);
    expect(overdueAfter(32)).toBe(8);
  });

  it('an answer nobody asked for changes neither the lookup timeout nor the successor', () => {
    const a = id(100n), b = id(900n), mallory = id(500n);
    const ca = new Chord(a, { maxLookupTimeoutTicks: 32, replyTimeoutTicks: 100 });
    ca.adoptSuccessor(b);
    for (let i = 0; i < 5; i++) ca.onMessage(ctxOf(a), mallory, { t: 'found', id: 4242 + i, key: a, owner: mallory, hops: 1 });
    expect(ca.successor()).toBe(b);
    const key = id(2000n);
    ca.lookup(ctxOf(a), key, 'r');
    let retriedAt = NaN;
    for (let t = 1; t <= 20 && Number.isNaN(retriedAt); t++) {
      if (sends(ca.onTick(ctxOf(a))).some((s) => s.msg.t === 'find' && s.msg.key === key)) retriedAt = t;
    }
    expect(retriedAt).toBe(4);
  });

  it('adaptive rounds on odd ticks still look for another ring now and then', () => {
    const a = id(100n), b = id(900n), other = id(5000n);
    const ca = new Chord(a, { view: viewOf(() => [other]), maxRoundIntervalTicks: 8, mergeCheckTicks: 10 });
    const cb = new Chord(b);
    const nodes = new Map([[a, ca], [b, cb]]);
    let mergeLookups = 0;
    for (let t = 0; t < 200; t++) {
      for (const [nid, c] of nodes) {
        const queue = sends(c.onTick(ctxOf(nid))).map((s) => ({ from: nid, ...s }));
        while (queue.length > 0) {
          const { from, to, msg } = queue.shift()!;
          if (to === other && msg.t === 'find') mergeLookups++;
          const target = nodes.get(to);
          if (target) queue.push(...sends(target.onMessage(ctxOf(to), from, msg)).map((s) => ({ from: to, ...s })));
        }
      }
      if (t === 0) cb.adoptSuccessor(a);
      if (t === 0) ca.adoptSuccessor(b);
    }
    expect(ca.currentRoundInterval()).toBe(8);
    expect(mergeLookups).toBeGreaterThanOrEqual(8);
  });
});
