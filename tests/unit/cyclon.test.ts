import { describe, expect, it } from 'vitest';
import { Cyclon } from '../../src/protocols/peer-sampling/cyclon.ts';
import { createRng } from '../../src/core/rng.ts';
import type { ProtocolContext } from '../../src/core/protocol.ts';
import { decodeCyclonMessage, MAX_SHUFFLE_ENTRIES } from '../../src/wire/peer-sampling.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const SELF = id(0);
const ctx = (seed = 1): ProtocolContext => ({ self: SELF, now: 0, rng: createRng(seed) });

function filled(count: number, viewSize = 20, shuffleLength = 8): Cyclon {
  const c = new Cyclon({ viewSize, shuffleLength });
  c.onPeersDiscovered(ctx(), Array.from({ length: count }, (_, i) => id(i + 1)));
  return c;
}

describe('Cyclon', () => {
  it('bootstraps from discovered peers up to the view size, without self or duplicates', () => {
    const c = new Cyclon({ viewSize: 5, shuffleLength: 3 });
    c.onPeersDiscovered(ctx(), [SELF, id(1), id(1), id(2)]);
    expect(c.view()).toEqual([{ peer: id(1), age: 0 }, { peer: id(2), age: 0 }]);
    c.onPeersDiscovered(ctx(), [id(3), id(4), id(5), id(6), id(7)]);
    expect(c.view().map((e) => e.peer)).toEqual([id(1), id(2), id(3), id(4), id(5)]);
  });

  it('on tick ages everyone, removes the oldest and sends it self at age 0 plus shuffleLength-1 others', () => {
    const c = filled(10);
    c.onTick(ctx()); // all age 1; first oldest (id 1) removed
    const before = c.view();
    expect(before).toHaveLength(9);
    expect(before.every((e) => e.age === 1)).toBe(true);
    // make id(5) the strict oldest
    const c2 = filled(10);
    c2.onPeerDown(ctx(), id(5));
    c2.onTick(ctx());
    c2.onPeersDiscovered(ctx(), [id(5)]); // age 0
    const effects = c2.onTick(ctx(3));
    expect(effects).toHaveLength(1);
    const eff = effects[0]!;
    if (eff.kind !== 'send') throw new Error('expected a send');
    expect(eff.msg.t).toBe('shuffle');
    expect(eff.to).not.toBe(id(5)); // id(5) is younger than the rest
    expect(eff.msg.entries[0]).toEqual({ peer: SELF, age: 0 });
    expect(eff.msg.entries).toHaveLength(8);
    expect(new Set(eff.msg.entries.map((e) => e.peer)).size).toBe(8);
    expect(c2.view().some((e) => e.peer === eff.to)).toBe(false);
    expect(eff.msg.entries.some((e) => e.peer === eff.to)).toBe(false);
  });

  it('an empty view sends nothing', () => {
    expect(new Cyclon().onTick(ctx())).toEqual([]);
  });

  it('answers a shuffle with a subset of its view and fills empty slots first', () => {
    const c = filled(3, 20, 8);
    const from = id(100);
    const effects = c.onMessage(ctx(), from, { t: 'shuffle', entries: [{ peer: from, age: 0 }, { peer: id(101), age: 4 }, { peer: SELF, age: 2 }, { peer: id(1), age: 9 }] });
    const eff = effects[0]!;
    if (eff.kind !== 'send' || eff.msg.t !== 'shuffle-reply') throw new Error('expected a reply');
    expect(eff.to).toBe(from);
    expect(eff.msg.entries.map((e) => e.peer).sort()).toEqual([id(1), id(2), id(3)]);
    const view = c.view();
    expect(view.map((e) => e.peer).sort()).toEqual([id(1), id(2), id(3), from, id(101)].sort());
    expect(view.find((e) => e.peer === id(1))!.age).toBe(0); // known peer kept, not duplicated
  });

  it('with a full view replaces exactly the entries it sent away', () => {
    const c = filled(4, 4, 2);
    const effects = c.onMessage(ctx(7), id(50), { t: 'shuffle', entries: [{ peer: id(50), age: 0 }, { peer: id(51), age: 1 }] });
    const eff = effects[0]!;
    if (eff.kind !== 'send') throw new Error('expected a send');
    const sentAway = eff.msg.entries.map((e) => e.peer);
    expect(sentAway).toHaveLength(2);
    const view = c.view().map((e) => e.peer);
    expect(view).toHaveLength(4);
    expect(view).toContain(id(50));
    expect(view).toContain(id(51));
    for (const p of sentAway) expect(view).not.toContain(p);
  });

  it('merges a reply into the slots of the entries it sent to that peer', () => {
    const c = filled(20);
    const effects = c.onTick(ctx(5));
    const eff = effects[0]!;
    if (eff.kind !== 'send') throw new Error('expected a send');
    const sent = eff.msg.entries.slice(1).map((e) => e.peer);
    // The removed target leaves one empty slot: the first reply entry fills it, the rest replace sent ones.
    const reply = Array.from({ length: 8 }, (_, i) => ({ peer: id(200 + i), age: i }));
    c.onMessage(ctx(), eff.to, { t: 'shuffle-reply', entries: reply });
    const view = c.view().map((e) => e.peer);
    expect(view).toHaveLength(20);
    for (const r of reply) expect(view).toContain(r.peer);
    expect(sent.filter((p) => view.includes(p))).toHaveLength(0);
  });

  it('finds the entries it sent where they moved when its view changed before the reply came', () => {
    const c = filled(20);
    const eff = c.onTick(ctx(5))[0]!;
    if (eff.kind !== 'send') throw new Error('expected a send');
    const sent = eff.msg.entries.slice(1).map((e) => e.peer);
    // Meanwhile one peer that was not sent goes down (everything after it moves up one slot), one that was sent
    // goes down too, and a newcomer takes a free slot: the reply must overwrite the sent peers still in the view.
    const unsent = c.view().map((e) => e.peer).find((p) => !sent.includes(p))!;
    c.onPeerDown(ctx(), unsent);
    c.onPeerDown(ctx(), sent[3]!);
    c.onPeersDiscovered(ctx(), [id(300)]);
    expect(c.view()).toHaveLength(18); // 20 - the target - two down + the newcomer
    // Two reply entries fill the free slots; the other six replace the six sent peers still in the view.
    const before = c.view().map((e) => e.peer);
    const reply = Array.from({ length: 8 }, (_, i) => ({ peer: id(200 + i), age: i }));
    c.onMessage(ctx(), eff.to, { t: 'shuffle-reply', entries: reply });
    const view = c.view().map((e) => e.peer);
    expect(view).toHaveLength(20);
    for (const r of reply) expect(view).toContain(r.peer);
    expect(view.filter((p) => sent.includes(p))).toEqual([]);
    // Only sent peers made room: every other peer of the view before the reply is still there.
    for (const p of before) if (!sent.includes(p)) expect(view).toContain(p);
    expect(view).toContain(id(300));
  });

  it('keeps a partner that answered when its view has room, so two peers never gossip each other away', () => {
    const a = new Cyclon({ viewSize: 20, shuffleLength: 8 });
    a.onPeersDiscovered(ctx(), [id(1)]);
    const [shuffle] = a.onTick(ctx(2));
    if (shuffle?.kind !== 'send') throw new Error('expected a send');
    expect(a.view()).toEqual([]); // the target leaves the view while the shuffle is out (the paper's step)
    a.onMessage(ctx(), id(1), { t: 'shuffle-reply', entries: [] });
    expect(a.view()).toEqual([{ peer: id(1), age: 0 }]);
    // In a full view the paper's merge stands: the answering partner is not squeezed back in.
    const full = filled(20);
    const [out] = full.onTick(ctx(3));
    if (out?.kind !== 'send') throw new Error('expected a send');
    const reply = Array.from({ length: 8 }, (_, i) => ({ peer: id(400 + i), age: i }));
    full.onMessage(ctx(), out.to, { t: 'shuffle-reply', entries: reply });
    expect(full.view().map((e) => e.peer)).not.toContain(out.to);
  });

  it('a reply from a peer it did not shuffle with only fills empty slots', () => {
    const c = filled(20);
    c.onMessage(ctx(), id(99), { t: 'shuffle-reply', entries: [{ peer: id(300), age: 0 }] });
    expect(c.view().map((e) => e.peer)).not.toContain(id(300));
  });

  it('forgets a peer that went down, and its outstanding shuffle', () => {
    const c = filled(5);
    const eff = c.onTick(ctx())[0]!;
    if (eff.kind !== 'send') throw new Error('expected a send');
    c.onPeerDown(ctx(), id(3));
    expect(c.view().map((e) => e.peer)).not.toContain(id(3));
    c.onPeerDown(ctx(), eff.to);
    // The reply arriving after all is treated as unsolicited: fills the free slots only.
    c.onMessage(ctx(), eff.to, { t: 'shuffle-reply', entries: [{ peer: id(400), age: 0 }] });
    expect(c.view().map((e) => e.peer)).toContain(id(400));
  });

  it('sample returns distinct view peers', () => {
    const c = filled(10);
    const s = c.sample(4, createRng(2));
    expect(new Set(s).size).toBe(4);
    for (const p of s) expect(c.view().map((e) => e.peer)).toContain(p);
    expect(c.sample(50, createRng(2))).toHaveLength(10);
  });
});

describe('Cyclon key hints', () => {
  // A message received right after it was made takes its ids' keys from the sender instead of recomputing them;
  // an equal message from the wire (a copy) does not. Both must give the same views and answers.
  it('gives the same views and messages whether a shuffle arrives as made or as a copy from the wire', () => {
    const A = id(1000);
    const B = id(2000);
    const pair = () => {
      const a = new Cyclon({ viewSize: 6, shuffleLength: 4 });
      const b = new Cyclon({ viewSize: 6, shuffleLength: 4 });
      a.onPeersDiscovered({ self: A, now: 0, rng: createRng(1) }, [B, id(1), id(2), id(3), id(4), id(5)]);
      b.onPeersDiscovered({ self: B, now: 0, rng: createRng(2) }, [id(3), id(4), id(6), id(7), id(8), id(9)]);
      return { a, b, ra: createRng(3), rb: createRng(4) };
    };
    const direct = pair();
    const copied = pair();
    for (let round = 0; round < 12; round++) {
      // The direct exchange runs to its end before the copied one starts: only the last message made has a hint.
      const [tick1] = direct.a.onTick({ self: A, now: 0, rng: direct.ra });
      if (tick1?.kind !== 'send') break;
      const [reply1] = direct.b.onMessage({ self: B, now: 0, rng: direct.rb }, A, tick1.msg);
      if (reply1?.kind === 'send') direct.a.onMessage({ self: A, now: 0, rng: direct.ra }, B, reply1.msg);
      const [tick2] = copied.a.onTick({ self: A, now: 0, rng: copied.ra });
      expect(tick2).toEqual(tick1);
      if (tick2?.kind !== 'send') break;
      const [reply2] = copied.b.onMessage({ self: B, now: 0, rng: copied.rb }, A, structuredClone(tick2.msg));
      expect(reply2).toEqual(reply1);
      if (reply2?.kind === 'send') copied.a.onMessage({ self: A, now: 0, rng: copied.ra }, B, structuredClone(reply2.msg));
      expect(direct.a.view()).toEqual(copied.a.view());
      expect(direct.b.view()).toEqual(copied.b.view());
      // Keep B in A's view so that the next round shuffles with B again.
      direct.a.onPeersDiscovered({ self: A, now: 0, rng: direct.ra }, [B]);
      copied.a.onPeersDiscovered({ self: A, now: 0, rng: copied.ra }, [B]);
    }
    expect(direct.b.view().map((e) => e.peer)).toContain(A);
  });
});

describe('Cyclon wire decoder', () => {
  const ok = { t: 'shuffle', entries: [{ peer: id(1), age: 3 }] };

  it('accepts a valid shuffle and reply', () => {
    expect(decodeCyclonMessage(ok)).toEqual({ ok: true, value: ok });
    expect(decodeCyclonMessage({ t: 'shuffle-reply', entries: [] }).ok).toBe(true);
  });

  it.each([
    ['not an object', 'hello', 'E_CYCLON_MALFORMED'],
    ['unknown type', { t: 'gossip', entries: [] }, 'E_CYCLON_MALFORMED'],
    ['extra field', { ...ok, extra: 1 }, 'E_CYCLON_MALFORMED'],
    ['bad peer id', { t: 'shuffle', entries: [{ peer: 'ABC', age: 1 }] }, 'E_BAD_PEER_ID'],
    ['uppercase peer id', { t: 'shuffle', entries: [{ peer: 'A'.repeat(40), age: 1 }] }, 'E_BAD_PEER_ID'],
    ['negative age', { t: 'shuffle', entries: [{ peer: id(1), age: -1 }] }, 'E_CYCLON_BAD_AGE'],
    ['fractional age', { t: 'shuffle', entries: [{ peer: id(1), age: 1.5 }] }, 'E_CYCLON_BAD_AGE'],
    ['too many entries', { t: 'shuffle', entries: Array.from({ length: MAX_SHUFFLE_ENTRIES + 1 }, (_, i) => ({ peer: id(i), age: 0 })) }, 'E_CYCLON_TOO_MANY_ENTRIES'],
  ])('rejects %s', (_name, msg, code) => {
    const d = decodeCyclonMessage(msg);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.code).toBe(code);
  });
});
