/**
 * Slice allocation logic (cloud-claims.ts): each peer grants at most one live claim, first come; leases lapse;
 * two requesters racing for overlapping candidates end with disjoint slices under every interleaving tried;
 * a requester that cannot get n releases what it got.
 */
import { describe, expect, it } from 'vitest';
import { Allocation, ClaimTable } from '../../src/runtime/services/cloud-claims.ts';
import { createRng } from '../../src/core/rng.ts';

const peer = (i: number): string => i.toString(16).padStart(40, '0');
const A = peer(1000), B = peer(2000);

describe('ClaimTable', () => {
  it('grants one claim at a time, first come, and refuses others naming the holder', () => {
    const t = new ClaimTable({ claimLeaseCycles: 5 });
    expect(t.claim('s1', A, 0)).toEqual({ granted: true });
    expect(t.claim('s2', B, 1)).toEqual({ granted: false, held: 's1' });
    expect(t.claim('s1', B, 1)).toEqual({ granted: false, held: 's1' });
    expect(t.claim('s1', A, 1)).toEqual({ granted: true });
  });

  it('lets an uncommitted claim lapse after its lease, then grants the next requester', () => {
    const t = new ClaimTable({ claimLeaseCycles: 5 });
    t.claim('s1', A, 0);
    expect(t.claim('s2', B, 5).granted).toBe(false);
    expect(t.claim('s2', B, 6).granted).toBe(true);
    expect(t.commit('s1', A, 6)).toBe(false);
  });

  it('turns a claim into membership on commit, renews it while the slice speaks, and expires it in silence', () => {
    const t = new ClaimTable({ claimLeaseCycles: 5, memberLeaseCycles: 10 });
    t.claim('s1', A, 0);
    expect(t.commit('s1', A, 1)).toBe(true);
    expect(t.memberOf()).toBe('s1');
    t.renew('s1', 8);
    expect(t.expire(18)).toBeNull();
    expect(t.claim('s2', B, 18).granted).toBe(false);
    const lapsed = t.expire(19);
    expect(lapsed?.slice).toBe('s1');
    expect(t.memberOf()).toBeNull();
    expect(t.claim('s2', B, 19).granted).toBe(true);
  });

  it('releases only for the slice that holds it', () => {
    const t = new ClaimTable();
    t.claim('s1', A, 0);
    expect(t.release('s2')).toBe(false);
    expect(t.release('s1')).toBe(true);
    expect(t.current()).toBeNull();
  });
});

describe('Allocation', () => {
  it('keeps at most n claims outstanding and moves on after refusals', () => {
    const a = new Allocation({ candidates: [peer(1), peer(2), peer(3), peer(4)], need: 2 });
    expect(a.next(0)).toEqual([peer(1), peer(2)]);
    expect(a.next(0)).toEqual([]);
    a.answer(peer(1), false);
    expect(a.next(0)).toEqual([peer(3)]);
    a.answer(peer(2), true);
    a.answer(peer(3), true);
    expect(a.status()).toBe('done');
    expect(a.members()).toEqual([peer(2), peer(3)]);
  });

  it('fails when candidates run out, gives up on silent peers, and ignores answers it did not ask for', () => {
    const a = new Allocation({ candidates: [peer(1), peer(2)], need: 2, timeoutCycles: 3 });
    a.next(0);
    a.answer(peer(1), true);
    expect(a.answer(peer(9), true)).toBe(false);
    expect(a.expire(2)).toEqual([]);
    expect(a.expire(3)).toEqual([peer(2)]);
    expect(a.status()).toBe('failed');
    expect(a.members()).toEqual([peer(1)]);
    expect(a.answer(peer(2), true)).toBe(false);
  });
});

/** Two requesters race over the same peers; messages are delivered in a random order. */
function race(seed: number, peers: number, needA: number, needB: number) {
  const rng = createRng(seed);
  const tables = new Map(Array.from({ length: peers }, (_, i) => [peer(i + 1), new ClaimTable()]));
  const ids = [...tables.keys()];
  const requesters = [
    { owner: A, slice: 'fast', alloc: new Allocation({ candidates: ids, need: needA }) },
    { owner: B, slice: 'big', alloc: new Allocation({ candidates: rng.shuffled(ids), need: needB }) },
  ];
  type Msg = { to: string; from: string; kind: 'claim' | 'answer' | 'release'; slice: string; granted?: boolean };
  const queue: Msg[] = [];
  const pump = (r: (typeof requesters)[number]): void => {
    for (const p of r.alloc.next(0)) queue.push({ to: p, from: r.owner, kind: 'claim', slice: r.slice });
  };
  const settled = new Set<string>();
  requesters.forEach(pump);
  while (queue.length > 0) {
    const i = rng.int(queue.length);
    const m = queue.splice(i, 1)[0]!;
    if (m.kind === 'claim') {
      const granted = tables.get(m.to)!.claim(m.slice, m.from, 0).granted;
      queue.push({ to: m.from, from: m.to, kind: 'answer', slice: m.slice, granted });
    } else if (m.kind === 'release') {
      tables.get(m.to)!.release(m.slice);
    } else {
      const r = requesters.find((q) => q.owner === m.to)!;
      r.alloc.answer(m.from, m.granted!);
      pump(r);
      if (r.alloc.status() === 'failed' && !settled.has(r.slice)) {
        settled.add(r.slice);
        for (const p of r.alloc.members()) queue.push({ to: p, from: r.owner, kind: 'release', slice: r.slice });
      }
    }
  }
  for (const r of requesters) if (r.alloc.status() === 'done') for (const p of r.alloc.members()) tables.get(p)!.commit(r.slice, r.owner, 0);
  return { requesters, tables };
}

describe('concurrent requesters', () => {
  it('always end with disjoint slices, and both succeed when there are enough peers', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { requesters, tables } = race(seed, 12, 4, 3);
      const [fast, big] = requesters;
      expect(fast!.alloc.status()).toBe('done');
      expect(big!.alloc.status()).toBe('done');
      const a = new Set(fast!.alloc.members()), b = new Set(big!.alloc.members());
      expect(a.size).toBe(4);
      expect(b.size).toBe(3);
      for (const p of a) expect(b.has(p)).toBe(false);
      for (const p of a) expect(tables.get(p)!.memberOf()).toBe('fast');
      for (const p of b) expect(tables.get(p)!.memberOf()).toBe('big');
    }
  });

  it('when both cannot fit, any failed requester leaves every peer it claimed free again', () => {
    let failures = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const { requesters, tables } = race(seed, 6, 4, 4);
      const done = requesters.filter((r) => r.alloc.status() === 'done');
      expect(done.length).toBeLessThanOrEqual(1);
      for (const r of requesters) {
        if (r.alloc.status() === 'done') continue;
        failures++;
        for (const [, t] of tables) expect(t.current()?.slice === r.slice).toBe(false);
      }
      const held = [...tables.values()].filter((t) => t.current() !== null).length;
      expect(held).toBe(done.length * 4);
    }
    expect(failures).toBeGreaterThanOrEqual(200);
  });
});
