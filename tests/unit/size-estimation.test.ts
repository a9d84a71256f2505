import { describe, expect, it } from 'vitest';
import { SizeEstimation, estimateFrom } from '../../src/protocols/aggregation/size-estimation.ts';
import { applyReply, keepSmallestKeys, meanOf } from '../../src/protocols/aggregation/averaging.ts';
import { viewOf } from '../../src/protocols/peer-sampling/view.ts';
import { createRng } from '../../src/core/rng.ts';
import type { Effect, ProtocolContext } from '../../src/core/protocol.ts';
import { decodeAggregationMessage, MAX_INSTANCES, type AggregationMessage } from '../../src/wire/aggregation.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const ctx = (self: string, seed = 1): ProtocolContext => ({ self, now: 0, rng: createRng(seed) });

function sends(effects: Effect<AggregationMessage>[]): { to: string; msg: AggregationMessage }[] {
  return effects.flatMap((e) => (e.kind === 'send' ? [{ to: e.to, msg: e.msg }] : []));
}

describe('averaging arithmetic', () => {
  it('the pairwise mean treats a missing instance as 0 and a missing named value as absent', () => {
    expect(meanOf(new Map([['a', 1]]), new Map([['b', 0.5]]), true)).toEqual(new Map([['a', 0.5], ['b', 0.25]]));
    expect(meanOf(new Map([['load', 4]]), new Map([['cpu', 2]]), false)).toEqual(new Map([['load', 4]]));
  });

  it('push then pull conserves the sum even when the initiator changed in between', () => {
    const aSent = new Map([['x', 1]]);
    const b = new Map<string, number>();
    const bNew = meanOf(b, aSent, true); // b replies with its old state b
    const aNow = new Map([['x', 0.6]]); // a took part in another exchange meanwhile (gave 0.4 away)
    const aNew = applyReply(aNow, aSent, b, true);
    expect((aNew.get('x') ?? 0) + (bNew.get('x') ?? 0)).toBeCloseTo(0.6 + 0, 12);
  });

  it('keeps the smallest keys', () => {
    expect([...keepSmallestKeys(new Map([['c', 1], ['a', 2], ['b', 3]]), 2).keys()]).toEqual(['a', 'b']);
  });

  it('the estimate is 1 / mean of the held instance values', () => {
    expect(estimateFrom(new Map())).toBeNull();
    expect(estimateFrom(new Map([['a', 0.1], ['b', 0.1], ['c', 0]]))).toBeCloseTo(10, 9);
  });
});

describe('SizeEstimation', () => {
  it('two nodes converge to N = 2 within one epoch, and stay null before it completes', () => {
    const A = id(1), B = id(2);
    const a = new SizeEstimation({ view: viewOf(() => [B]), epochCycles: 4, minExchanges: 1 });
    const b = new SizeEstimation({ view: viewOf(() => [A]), epochCycles: 4, minExchanges: 1 });
    const nodes = new Map([[A, a], [B, b]]);
    const deliver = (from: string, out: { to: string; msg: AggregationMessage }[]): void => {
      for (const { to, msg } of out) deliver(to, sends(nodes.get(to)!.onMessage(ctx(to), from, msg)));
    };
    for (let cycle = 0; cycle < 4; cycle++) {
      expect(a.estimate()).toBeNull();
      deliver(A, sends(a.onTick(ctx(A, cycle))));
      deliver(B, sends(b.onTick(ctx(B, cycle + 100))));
    }
    deliver(A, sends(a.onTick(ctx(A, 9))));
    expect(a.estimate()).toBeCloseTo(2, 9);
    expect(a.progress().completedEpochs).toBe(1);
  });

  it('a push with a newer epoch makes the node join it and reply; older epochs get a reply but no merge', () => {
    const A = id(1), B = id(2);
    const a = new SizeEstimation({ view: viewOf(() => [B]), epochCycles: 10 });
    a.onTick(ctx(A)); // epoch 0, leader (no estimate yet)
    const newer = sends(a.onMessage(ctx(A), B, { t: 'push', epoch: 3, cycle: 5, instances: [[B, 1]], values: [] }));
    expect(newer).toHaveLength(1);
    // Joined mid-epoch: not a leader, and one cycle behind the sender so chains of joins never run ahead.
    expect(newer[0]!.msg).toMatchObject({ t: 'pull', epoch: 3, cycle: 4, instances: [] });
    expect(a.progress()).toMatchObject({ epoch: 3, cycle: 4 });
    expect([...a.instanceValues()]).toEqual([[B, 0.5]]);
    const older = sends(a.onMessage(ctx(A), id(3), { t: 'push', epoch: 1, cycle: 0, instances: [[id(3), 1]], values: [] }));
    expect(older[0]!.msg.epoch).toBe(3);
    expect([...a.instanceValues()]).toEqual([[B, 0.5]]);
  });

  it('a pull it did not ask for is ignored', () => {
    const a = new SizeEstimation({ view: viewOf(() => []), epochCycles: 10 });
    a.onTick(ctx(id(1)));
    a.onMessage(ctx(id(1)), id(2), { t: 'pull', epoch: 0, cycle: 0, instances: [[id(2), 1]], values: [] });
    expect([...a.instanceValues()]).toEqual([[id(1), 1]]);
  });

  it('keeps at most maxInstances instances, the smallest leader ids', () => {
    const self = id(100);
    const a = new SizeEstimation({ view: viewOf(() => []), epochCycles: 10, maxInstances: 3 });
    a.onTick(ctx(self));
    a.onMessage(ctx(self), id(5), { t: 'push', epoch: 0, cycle: 0, instances: [[id(5), 1], [id(7), 1], [id(2), 1], [id(9), 1]], values: [] });
    expect([...a.instanceValues().keys()].sort()).toEqual([id(2), id(5), id(7)]);
  });

  it('averages named local values alongside the size', () => {
    const A = id(1), B = id(2);
    const a = new SizeEstimation({ view: viewOf(() => [B]), epochCycles: 3, minExchanges: 1, localValues: () => new Map([['load', 1]]) });
    const b = new SizeEstimation({ view: viewOf(() => [A]), epochCycles: 3, minExchanges: 1, localValues: () => new Map([['load', 3]]) });
    const nodes = new Map([[A, a], [B, b]]);
    const deliver = (from: string, out: { to: string; msg: AggregationMessage }[]): void => {
      for (const { to, msg } of out) deliver(to, sends(nodes.get(to)!.onMessage(ctx(to), from, msg)));
    };
    for (let cycle = 0; cycle < 4; cycle++) {
      deliver(A, sends(a.onTick(ctx(A, cycle))));
      deliver(B, sends(b.onTick(ctx(B, cycle))));
    }
    expect(a.averages()?.get('load')).toBeCloseTo(2, 9);
    expect(b.averages()?.get('load')).toBeCloseTo(2, 9);
  });
});

describe('SizeEstimation exchanges are atomic', () => {
  it('a node waiting for its pull does not push again, and a push it receives meanwhile changes nothing yet', () => {
    const A = id(1), B = id(2), C = id(3);
    const a = new SizeEstimation({ view: viewOf(() => [B]), epochCycles: 50 });
    const first = sends(a.onTick(ctx(A)));
    expect(first).toHaveLength(1);
    expect(sends(a.onTick(ctx(A)))).toEqual([]); // still waiting for B
    const before = [...a.instanceValues()];
    const answer = sends(a.onMessage(ctx(A), C, { t: 'push', epoch: 0, cycle: 1, instances: [[C, 1]], values: [] }));
    expect([...a.instanceValues()]).toEqual(before);
    // Either held (no answer yet) or declined by echoing C's own state, which leaves C unchanged too.
    if (answer.length > 0) expect(answer[0]!.msg).toMatchObject({ t: 'pull', instances: [[C, 1]] });
    // B's pull ends the wait; a held push is answered then, with A's state from before merging it.
    const later = sends(a.onMessage(ctx(A), B, { t: 'pull', epoch: 0, cycle: 1, instances: [], values: [] }));
    expect([...a.instanceValues()].map(([k, v]) => [k, v])).toContainEqual([A, answer.length > 0 ? 0.5 : 0.25]);
    if (answer.length === 0) expect(later[0]).toMatchObject({ to: C, msg: { t: 'pull', instances: [[A, 0.5]] } });
  });

  it('conserves every instance\'s mass exactly when messages arrive late and in any order', () => {
    const ids = Array.from({ length: 6 }, (_, i) => id(i + 1));
    const rng = createRng(42);
    const nodes = new Map(ids.map((p) => [p, new SizeEstimation({ view: viewOf(() => ids.filter((q) => q !== p)), epochCycles: 1000 })]));
    const inFlight: { from: string; to: string; msg: AggregationMessage }[] = [];
    for (let step = 0; step < 3000; step++) {
      if (inFlight.length > 0 && rng.next() < 0.75) {
        const [m] = inFlight.splice(rng.int(inFlight.length), 1); // any order: links slower than ticks
        inFlight.push(...sends(nodes.get(m!.to)!.onMessage(ctx(m!.to, step), m!.from, m!.msg)).map((s) => ({ from: m!.to, ...s })));
      } else {
        const p = ids[rng.int(ids.length)]!;
        inFlight.push(...sends(nodes.get(p)!.onTick(ctx(p, step))).map((s) => ({ from: p, ...s })));
      }
    }
    while (inFlight.length > 0) {
      const m = inFlight.shift()!;
      inFlight.push(...sends(nodes.get(m.to)!.onMessage(ctx(m.to), m.from, m.msg)).map((s) => ({ from: m.to, ...s })));
    }
    const leaders = new Set([...nodes.values()].flatMap((n) => [...n.instanceValues().keys()]));
    expect(leaders.size).toBeGreaterThan(1);
    for (const leader of leaders) {
      const mass = [...nodes.values()].reduce((sum, n) => sum + (n.instanceValues().get(leader) ?? 0), 0);
      expect(mass).toBeCloseTo(1, 9);
    }
    const values = [...nodes.values()].map((n) => n.currentEstimate()!);
    expect(Math.max(...values.map((v) => Math.abs(v - 6)))).toBeLessThan(0.01); // and it still converges
  });

  it('a node that took part in too few exchanges keeps its previous estimate (none) at the epoch end', () => {
    const A = id(1), B = id(2);
    const a = new SizeEstimation({ view: viewOf(() => []), epochCycles: 3 });
    a.onTick(ctx(A));
    a.onMessage(ctx(A), B, { t: 'push', epoch: 0, cycle: 0, instances: [[B, 1]], values: [] });
    for (let i = 0; i < 3; i++) a.onTick(ctx(A));
    expect(a.progress().epoch).toBe(1);
    expect(a.estimate()).toBeNull();
  });
});

describe('aggregation wire decoder', () => {
  const ok = { t: 'push', epoch: 2, cycle: 1, instances: [[id(1), 0.25]], values: [['load', 3.5]] };

  it('accepts a valid message', () => {
    expect(decodeAggregationMessage(ok)).toEqual({ ok: true, value: ok });
  });

  it.each([
    ['not an object', null, 'E_AGG_MALFORMED'],
    ['missing epoch', { ...ok, epoch: undefined }, 'E_AGG_MALFORMED'],
    ['negative epoch', { ...ok, epoch: -1 }, 'E_AGG_MALFORMED'],
    ['bad leader id', { ...ok, instances: [['zz', 0.5]] }, 'E_BAD_PEER_ID'],
    ['share above 1', { ...ok, instances: [[id(1), 2]] }, 'E_AGG_BAD_VALUE'],
    ['infinite value', { ...ok, values: [['load', Infinity]] }, 'E_AGG_BAD_VALUE'],
    ['duplicate instance', { ...ok, instances: [[id(1), 0.1], [id(1), 0.2]] }, 'E_AGG_MALFORMED'],
    ['too many instances', { ...ok, instances: Array.from({ length: MAX_INSTANCES + 1 }, (_, i) => [id(i), 0]) }, 'E_AGG_TOO_MANY_ENTRIES'],
  ])('rejects %s', (_name, msg, code) => {
    const d = decodeAggregationMessage(msg);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.code).toBe(code);
  });
});
