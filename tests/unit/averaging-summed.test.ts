/** The arithmetic of summed values (`sum.` keys) in push-pull averaging: missing counts as 0, mass is conserved. */
import { describe, expect, it } from 'vitest';
import { applyReply, isSummedKey, MAX_SUMMED_KEYS, meanOf, summedKey } from '../../src/protocols/aggregation/averaging.ts';

const total = (...maps: Map<string, number>[]) => (key: string) => maps.reduce((a, m) => a + (m.get(key) ?? 0), 0);

describe('summed values in averaging', () => {
  it('names summed keys with a prefix the wire accepts', () => {
    expect(summedKey('credit')).toBe('sum.credit');
    expect(summedKey('credit.0123456789abcdef')).toMatch(/^[a-z0-9][a-z0-9_.-]{0,31}$/);
    expect(isSummedKey('sum.credit')).toBe(true);
    expect(isSummedKey('load')).toBe(false);
  });

  it('the pairwise mean halves a summed key the other side lacks, and leaves plain keys alone', () => {
    const a = new Map([['sum.c', 8], ['load', 4]]);
    expect(meanOf(a, new Map(), false)).toEqual(new Map([['sum.c', 4], ['load', 4]]));
    expect(meanOf(new Map([['load', 2]]), a, false)).toEqual(new Map([['sum.c', 4], ['load', 3]]));
  });

  it('push then pull conserves a summed key, even when the initiator changed in between', () => {
    const aSent = new Map([['sum.c', 10], ['load', 1]]);
    const b = new Map([['load', 3]]);
    const bNew = meanOf(b, aSent, false);
    const aNow = new Map([['sum.c', 6], ['load', 1]]); // gave 4 away in another exchange meanwhile
    const aNew = applyReply(aNow, aSent, b, false);
    expect(total(aNew, bNew)('sum.c')).toBeCloseTo(6, 12);
    expect(aNew.get('load')).toBe(2);
    expect(bNew.get('load')).toBe(2);
  });

  it('an initiator without the key learns it from the reply and the sum is kept', () => {
    const aSent = new Map<string, number>();
    const b = new Map([['sum.c', 5]]);
    const bNew = meanOf(b, aSent, false);
    const aNew = applyReply(new Map(), aSent, b, false);
    expect(aNew.get('sum.c')).toBe(2.5);
    expect(total(aNew, bNew)('sum.c')).toBe(5);
  });

  it('keeps only the smallest MAX_SUMMED_KEYS summed keys and every plain key', () => {
    const many = new Map<string, number>([['load', 1]]);
    for (let i = 0; i < MAX_SUMMED_KEYS + 5; i++) many.set(summedKey(`k${String(i).padStart(2, '0')}`), 1);
    const out = meanOf(many, new Map([['load', 1]]), false);
    expect([...out.keys()].filter(isSummedKey)).toHaveLength(MAX_SUMMED_KEYS);
    expect(out.has(summedKey('k00'))).toBe(true);
    expect(out.has(summedKey(`k${MAX_SUMMED_KEYS + 4}`))).toBe(false);
    expect(out.get('load')).toBe(1);
  });

  it('counting instances are unchanged (missing = 0, clamped at 0)', () => {
    expect(meanOf(new Map([['a', 1]]), new Map([['b', 0.5]]), true)).toEqual(new Map([['a', 0.5], ['b', 0.25]]));
    expect(applyReply(new Map([['a', 0.1]]), new Map([['a', 1]]), new Map(), true).get('a')).toBe(0);
  });
});
