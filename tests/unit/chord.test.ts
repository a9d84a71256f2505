import { describe, expect, it } from 'vitest';
import { Chord } from '../../src/protocols/chord/chord.ts';
import { hexOf } from '../../src/protocols/chord/ring.ts';
import { createRng } from '../../src/core/rng.ts';
import { viewOf } from '../../src/protocols/peer-sampling/view.ts';
import type { Effect, ProtocolContext } from '../../src/core/protocol.ts';
import { decodeChordMessage, MAX_SUCCESSORS, type ChordMessage } from '../../src/wire/chord.ts';

const id = (n: bigint): string => hexOf(n);
const ctxOf = (self: string): ProtocolContext => ({ self, now: 0, rng: createRng(1) });
const sends = (effects: Effect<ChordMessage>[]) =>
  effects.flatMap((e) => (e.kind === 'send' ? [{ to: e.to, msg: e.msg }] : []));

/** Delivers messages between the given nodes until none is left (a message to an absent node is dropped). */
function pump(nodes: Map<string, Chord>, from: string, effects: Effect<ChordMessage>[]): void {
  const queue = sends(effects).map((s) => ({ from, ...s }));
  while (queue.length > 0) {
    const { from: f, to, msg } = queue.shift()!;
    const target = nodes.get(to);
    if (!target) continue;
    queue.push(...sends(target.onMessage(ctxOf(to), f, msg)).map((s) => ({ from: to, ...s })));
  }
}

function tickAll(nodes: Map<string, Chord>, rounds: number): void {
  for (let r = 0; r < rounds; r++) for (const [nid, c] of nodes) pump(nodes, nid, c.onTick(ctxOf(nid)));
}

describe('Chord protocol', () => {
  it('a node alone owns every key, in 0 hops', () => {
    const a = new Chord(id(100n));
    expect(a.lookup(ctxOf(id(100n)), id(5n), 'r1')).toEqual([]);
    expect(a.takeCompleted()).toEqual([{ ok: true, requestId: 'r1', key: id(5n), owner: id(100n), hops: 0, attempts: 1 }]);
    expect(a.takeCompleted()).toEqual([]);
  });

  it('a malformed key fails at once with E_CHORD_BAD_KEY', () => {
    const a = new Chord(id(100n));
    expect(a.lookup(ctxOf(id(100n)), 'XYZ', 'bad')).toEqual([]);
    expect(a.takeCompleted()).toEqual([{ ok: false, requestId: 'bad', key: 'XYZ', code: 'E_CHORD_BAD_KEY', attempts: 0 }]);
  });

  it('a node without a successor joins through a peer from its peer-sampling view', () => {
    const a = id(100n), b = id(900n);
    const ca = new Chord(a, { view: viewOf(() => [b]) });
    const cb = new Chord(b);
    const nodes = new Map([[a, ca], [b, cb]]);
    const first = ca.onTick(ctxOf(a));
    expect(sends(first)).toEqual([{ to: b, msg: { t: 'find', id: expect.any(Number), key: a, origin: a, hops: 1 } }]);
    expect(sends(ca.onTick(ctxOf(a)))).toEqual([]); // no second join while the first is under way
    pump(nodes, a, first);
    expect(ca.successor()).toBe(b);
    tickAll(nodes, 3);
    expect(cb.successor()).toBe(a);
    expect(cb.predecessor()).toBe(a);
    expect(ca.predecessor()).toBe(b);
  });

  it('nodes that discover each other join, stabilize into the true ring and answer lookups', () => {
    const ids = [10n, 200n, 3000n, 40000n, 500000n].map(id);
    const nodes = new Map(ids.map((n) => [n, new Chord(n)]));
    for (const n of ids.slice(1)) pump(nodes, n, nodes.get(n)!.onPeersDiscovered(ctxOf(n), [ids[0]!]));
    tickAll(nodes, 12);
    ids.forEach((n, i) => {
      const c = nodes.get(n)!;
      expect(c.successor()).toBe(ids[(i + 1) % ids.length]);
      expect(c.predecessor()).toBe(ids[(i + ids.length - 1) % ids.length]);
      expect(c.successors.ids()).toEqual([1, 2, 3, 4].map((k) => ids[(i + k) % ids.length]));
    });
    const a = nodes.get(ids[0]!)!;
    pump(nodes, ids[0]!, a.lookup(ctxOf(ids[0]!), id(1000n), 'x'));
    pump(nodes, ids[0]!, a.lookup(ctxOf(ids[0]!), id(600000n), 'wrap'));
    const done = a.takeCompleted();
    expect(done.map((r) => (r.ok ? [r.requestId, r.owner] : r.code))).toEqual([['x', ids[2]], ['wrap', ids[0]]]);
  });

  it('a lookup with no answer is retried after the timeout and fails with E_CHORD_LOOKUP_TIMEOUT', () => {
    const self = id(1n);
    const c = new Chord(self, { lookupTimeoutTicks: 2, lookupAttempts: 2, replyTimeoutTicks: 100 });
    c.adoptSuccessor(id(10n));
    const first = sends(c.lookup(ctxOf(self), id(500n), 'r'));
    expect(first).toEqual([{ to: id(10n), msg: { t: 'find', id: expect.any(Number), key: id(500n), origin: self, hops: 1 } }]);
    c.onTick(ctxOf(self));
    const retry = sends(c.onTick(ctxOf(self))).filter((s) => s.msg.t === 'find' && s.msg.key === id(500n));
    expect(retry).toHaveLength(1);
    expect(c.takeCompleted()).toEqual([]);
    c.onTick(ctxOf(self));
    c.onTick(ctxOf(self));
    expect(c.takeCompleted()).toEqual([{ ok: false, requestId: 'r', key: id(500n), code: 'E_CHORD_LOOKUP_TIMEOUT', attempts: 2 }]);
  });

  it('a dead next hop is removed everywhere and the lookup goes on through the next best finger', () => {
    const self = id(0n);
    const c = new Chord(self);
    c.adoptSuccessor(id(1n));
    const far = id(1n << 100n), mid = id(1n << 50n);
    c.fingers.fill(50, { id: mid, pos: 1n << 50n });
    c.fingers.fill(100, { id: far, pos: 1n << 100n });
    // Origin elsewhere: this node is a hop on someone's path.
    const origin = id(999n);
    const out = sends(c.onMessage(ctxOf(self), origin, { t: 'find', id: 7, key: id((1n << 100n) + 5n), origin, hops: 2 }));
    expect(out).toEqual([{ to: far, msg: { t: 'find', id: 7, key: id((1n << 100n) + 5n), origin, hops: 3 } }]);
    const rerouted = sends(c.onPeerDown(ctxOf(self), far));
    expect(rerouted).toEqual([{ to: mid, msg: { t: 'find', id: 7, key: id((1n << 100n) + 5n), origin, hops: 3 } }]);
    expect(c.fingers.distinct().map((n) => n.id)).not.toContain(far);
  });

  it('a successor that stops answering stabilize is dropped after the reply timeout', () => {
    const self = id(0n);
    const c = new Chord(self, { replyTimeoutTicks: 2 });
    c.adoptSuccessor(id(5n));
    c.onMessage(ctxOf(self), id(5n), { t: 'pred', pred: null, succs: [id(6n), id(7n)] });
    expect(c.successors.ids()).toEqual([id(5n), id(6n), id(7n)]);
    c.onTick(ctxOf(self)); // get-pred to 5, never answered
    c.onTick(ctxOf(self));
    c.onTick(ctxOf(self));
    expect(c.successor()).toBe(id(6n));
  });

  it('notify sets a closer predecessor only', () => {
    const c = new Chord(id(100n));
    c.adoptSuccessor(id(200n));
    c.onMessage(ctxOf(id(100n)), id(50n), { t: 'notify' });
    c.onMessage(ctxOf(id(100n)), id(20n), { t: 'notify' });
    expect(c.predecessor()).toBe(id(50n));
    c.onMessage(ctxOf(id(100n)), id(80n), { t: 'notify' });
    expect(c.predecessor()).toBe(id(80n));
    c.onPeerDown(ctxOf(id(100n)), id(80n));
    expect(c.predecessor()).toBeUndefined();
  });
});

describe('Chord wire', () => {
  it('accepts every message kind', () => {
    const msgs: ChordMessage[] = [
      { t: 'find', id: 1, key: id(5n), origin: id(6n), hops: 0 },
      { t: 'found', id: 1, key: id(5n), owner: id(6n), hops: 3 },
      { t: 'get-pred' },
      { t: 'pred', pred: null, succs: [id(1n)] },
      { t: 'notify' },
      { t: 'ping' },
      { t: 'pong' },
    ];
    for (const m of msgs) expect(decodeChordMessage(m)).toEqual({ ok: true, value: m });
  });

  it('rejects with named codes', () => {
    const code = (m: unknown) => {
      const d = decodeChordMessage(m);
      return d.ok ? 'ok' : d.code;
    };
    expect(code(null)).toBe('E_CHORD_MALFORMED');
    expect(code({ t: 'nope' })).toBe('E_CHORD_MALFORMED');
    expect(code({ t: 'find', id: 1, key: 'XYZ', origin: id(6n), hops: 0 })).toBe('E_CHORD_BAD_KEY');
    expect(code({ t: 'found', id: 1, key: id(1n), owner: 'short', hops: 0 })).toBe('E_BAD_PEER_ID');
    expect(code({ t: 'pred', pred: 'bad', succs: [] })).toBe('E_BAD_PEER_ID');
    expect(code({ t: 'pred', pred: null, succs: Array(MAX_SUCCESSORS + 1).fill(id(1n)) })).toBe('E_CHORD_TOO_MANY_SUCCESSORS');
    expect(code({ t: 'find', id: 1, key: id(1n), origin: id(6n), hops: 1000 })).toBe('E_CHORD_TOO_MANY_HOPS');
    expect(code({ t: 'find', id: -1, key: id(1n), origin: id(6n), hops: 0 })).toBe('E_CHORD_MALFORMED');
    expect(code({ t: 'ping', extra: 1 })).toBe('E_CHORD_MALFORMED');
  });
});
