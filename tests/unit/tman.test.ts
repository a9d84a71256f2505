import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import type { Effect, ProtocolContext } from '../../src/core/protocol.ts';
import { viewOf } from '../../src/protocols/peer-sampling/view.ts';
import { nearestOnRing, rankByRingDistance, ringNeighboursAmong } from '../../src/protocols/tman/ring-ranking.ts';
import { TMan, type TManOptions } from '../../src/protocols/tman/tman.ts';
import { decodeTManMessage, MAX_TMAN_ENTRIES, type TManMessage } from '../../src/wire/tman.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const ctx = (self: string, seed = 1): ProtocolContext => ({ self, now: 0, rng: createRng(seed) });
const sends = (effects: Effect<TManMessage>[]) => effects.flatMap((e) => (e.kind === 'send' ? [e] : []));

describe('ring ranking', () => {
  it('alternates nearest successors and predecessors, wrapping around the ring', () => {
    const all = [10, 20, 30, 40, 50, 60].map(id);
    expect(rankByRingDistance(id(35), all, 6)).toEqual([id(40), id(30), id(50), id(20), id(60), id(10)]);
    expect(rankByRingDistance(id(55), all, 3)).toEqual([id(60), id(50), id(10)]); // succ of 55 wraps: 60, then 10
    expect(rankByRingDistance(id(65), all, 2)).toEqual([id(10), id(60)]);
    expect(rankByRingDistance(id(30), [id(30), id(40)], 5)).toEqual([id(40)]);
    expect(rankByRingDistance(id(30), [], 5)).toEqual([]);
  });

  it('nearestOnRing takes the nearest on either side, so a far peer gets only useful entries', () => {
    const at = (n: number): string => n.toString(16).padStart(4, '0') + '0'.repeat(36); // positions in the top bits
    const all = [10, 20, 30, 40, 50, 60].map(at);
    expect(nearestOnRing(at(12), all, 3)).toEqual([at(10), at(20), at(30)]);
    expect(nearestOnRing(at(36), all, 2)).toEqual([at(40), at(30)]);
    expect(nearestOnRing(at(35), all, 2)).toEqual([at(40), at(30)]); // a tie goes to the successor first
    expect(nearestOnRing(at(0xfff0), [at(10), at(0x8000)], 1)).toEqual([at(10)]); // across the wrap
    expect(nearestOnRing(at(5), [], 2)).toEqual([]);
  });

  it('finds pred and succ among peers, wrapping, and null when alone', () => {
    const all = [10, 20, 30].map(id);
    expect(ringNeighboursAmong(id(20), all)).toEqual({ pred: id(10), succ: id(30) });
    expect(ringNeighboursAmong(id(30), all)).toEqual({ pred: id(20), succ: id(10) });
    expect(ringNeighboursAmong(id(5), all)).toEqual({ pred: id(30), succ: id(10) });
    expect(ringNeighboursAmong(id(5), [])).toEqual({ pred: null, succ: null });
  });
});

describe('TMan', () => {
  const make = (slice: string | null, peers: string[] = [], extra: Partial<TManOptions> = {}) =>
    new TMan({ view: viewOf(() => peers), slice: () => slice, viewSize: 4, messageSize: 3, psi: 1, probesPerCycle: 1, bootstrapProbes: 1, ...extra });

  it('a node in no slice sends nothing and ignores pushes', () => {
    const t = make(null, [id(2)]);
    expect(t.onTick(ctx(id(1)))).toEqual([]);
    expect(t.onMessage(ctx(id(1)), id(2), { t: 'tman-push', slice: 'gold', entries: [] })).toEqual([]);
    expect(t.view()).toEqual([]);
  });

  it('probes a peer from peer sampling with itself in the buffer', () => {
    const t = make('gold', [id(9)]);
    const [probe] = sends(t.onTick(ctx(id(1))));
    expect(probe).toEqual({ kind: 'send', to: id(9), msg: { t: 'tman-push', slice: 'gold', entries: [{ peer: id(1), age: 0 }] } });
  });

  it('ignores a push for another slice, answers one for its own and keeps the nearest', () => {
    const t = make('gold');
    expect(t.onMessage(ctx(id(50)), id(9), { t: 'tman-push', slice: 'silver', entries: [] })).toEqual([]);
    const entries = [40, 45, 60, 70, 90].map((n) => ({ peer: id(n), age: 1 }));
    const [reply] = sends(t.onMessage(ctx(id(50)), id(55), { t: 'tman-push', slice: 'gold', entries }));
    expect(reply?.to).toBe(id(55));
    expect(reply?.msg).toEqual({ t: 'tman-pull', slice: 'gold', entries: [{ peer: id(50), age: 0 }] }); // view before merging
    expect(t.view().map((e) => e.peer)).toEqual([id(55), id(45), id(60), id(40)]);
    expect(t.view().find((e) => e.peer === id(55))?.age).toBe(0);
    expect(t.view().find((e) => e.peer === id(45))?.age).toBe(2); // one hop ages a descriptor
    expect(t.ringNeighbours()).toEqual({ pred: id(45), succ: id(55) });
  });

  it('exchanges with its best-ranked peer and sends the descriptors nearest to it', () => {
    const at = (n: number): string => n.toString(16).padStart(4, '0') + '0'.repeat(36);
    const t = make('gold');
    t.onMessage(ctx(at(50)), at(55), { t: 'tman-push', slice: 'gold', entries: [40, 45, 60].map((n) => ({ peer: at(n), age: 0 })) });
    const [push] = sends(t.onTick(ctx(at(50))));
    expect(push?.to).toBe(at(55)); // psi = 1: the nearest
    expect(push?.msg.t).toBe('tman-push');
    // nearest to 55: 60 and 50 (self) at distance 5, the successor first on a tie; then 45
    expect(push?.msg.entries.map((e) => e.peer)).toEqual([at(60), at(50), at(45)]);
  });

  it('drops a peer reported down and refuses it while the tombstone lasts', () => {
    const t = make('gold', [], { tombstoneCycles: 3 });
    t.onMessage(ctx(id(50)), id(55), { t: 'tman-push', slice: 'gold', entries: [{ peer: id(45), age: 0 }] });
    t.onPeerDown(ctx(id(50)), id(45));
    expect(t.view().map((e) => e.peer)).toEqual([id(55)]);
    t.onMessage(ctx(id(50)), id(55), { t: 'tman-pull', slice: 'gold', entries: [{ peer: id(45), age: 0 }] });
    expect(t.view().map((e) => e.peer)).toEqual([id(55)]);
    t.onMessage(ctx(id(50)), id(45), { t: 'tman-pull', slice: 'gold', entries: [] }); // it spoke: alive after all
    expect(t.view().map((e) => e.peer).sort()).toEqual([id(45), id(55)]);
  });

  it('ages descriptors each cycle and drops those older than maxAge', () => {
    const t = make('gold', [], { maxAge: 2 });
    t.onMessage(ctx(id(50)), id(55), { t: 'tman-pull', slice: 'gold', entries: [{ peer: id(45), age: 1 }] });
    expect(t.view().find((e) => e.peer === id(45))?.age).toBe(2);
    t.onTick(ctx(id(50)));
    expect(t.view().map((e) => e.peer)).toEqual([id(55)]);
    t.onTick(ctx(id(50)));
    t.onTick(ctx(id(50)));
    expect(t.view()).toEqual([]);
  });

  it('starts over when its slice changes', () => {
    let slice: string | null = 'gold';
    const t = new TMan({ view: viewOf(() => []), slice: () => slice });
    t.onMessage(ctx(id(50)), id(55), { t: 'tman-pull', slice: 'gold', entries: [] });
    expect(t.view()).toHaveLength(1);
    slice = 'silver';
    t.onTick(ctx(id(50)));
    expect(t.sliceName()).toBe('silver');
    expect(t.view()).toEqual([]);
  });

  it('five members that push to each other converge to the true ring', () => {
    const ids = [id(10), id(20), id(30), id(40), id(50)];
    const nodes = new Map(ids.map((p) => [p, make('gold', ids.filter((q) => q !== p), { viewSize: 2, messageSize: 2 })]));
    for (let cycle = 0; cycle < 20; cycle++) {
      for (const [self, node] of nodes) {
        const queue = sends(node.onTick(ctx(self, cycle))).map((e) => ({ from: self, ...e }));
        while (queue.length > 0) {
          const e = queue.shift()!;
          for (const r of sends(nodes.get(e.to)!.onMessage(ctx(e.to, cycle), e.from, e.msg))) queue.push({ from: e.to, ...r });
        }
      }
    }
    ids.forEach((p, i) => {
      expect(nodes.get(p)!.ringNeighbours()).toEqual({ pred: ids[(i + ids.length - 1) % ids.length], succ: ids[(i + 1) % ids.length] });
    });
  });
});

describe('tman wire', () => {
  const code = (d: { ok: boolean; code?: string }) => (d.ok ? 'ok' : d.code);
  it('accepts a well-formed message and rejects bad ones by name', () => {
    expect(decodeTManMessage({ t: 'tman-push', slice: 'gold', entries: [{ peer: id(1), age: 0 }] }).ok).toBe(true);
    expect(code(decodeTManMessage(7))).toBe('E_TMAN_MALFORMED');
    expect(code(decodeTManMessage({ t: 'tman-push', slice: '', entries: [] }))).toBe('E_TMAN_BAD_SLICE');
    expect(code(decodeTManMessage({ t: 'tman-push', slice: 'gold', entries: [{ peer: 'XYZ', age: 0 }] }))).toBe('E_BAD_PEER_ID');
    expect(code(decodeTManMessage({ t: 'tman-push', slice: 'gold', entries: [{ peer: id(1), age: -1 }] }))).toBe('E_TMAN_MALFORMED');
    expect(code(decodeTManMessage({ t: 'tman-push', slice: 'gold', entries: [{ peer: id(1), age: 0 }, { peer: id(1), age: 2 }] }))).toBe('E_TMAN_MALFORMED');
    const many = Array.from({ length: MAX_TMAN_ENTRIES + 1 }, (_, i) => ({ peer: id(i + 1), age: 0 }));
    expect(code(decodeTManMessage({ t: 'tman-pull', slice: 'gold', entries: many }))).toBe('E_TMAN_TOO_MANY_ENTRIES');
  });
});
