/** Storage-hours credit (storage-credit.ts): bytes × time in GiB-hours, gaps earn nothing, state survives restarts. */
import { describe, expect, it } from 'vitest';
import { GIB, HOUR_MS, StorageCredit } from '../../src/runtime/services/storage-credit.ts';

/** Observes `bytes` every second for `seconds`, starting at `from`; returns the next time. */
function hold(credit: StorageCredit, from: number, seconds: number, bytes: number): number {
  let t = from;
  for (let i = 0; i < seconds; i++) {
    credit.observe(t, bytes);
    t += 1000;
  }
  return t;
}

describe('storage credit', () => {
  it('integrates bytes over time: 2 GiB held for an hour is 2 GiB-hours', () => {
    const credit = new StorageCredit();
    const end = hold(credit, 0, 3601, 2 * GIB);
    expect(end).toBe(3601 * 1000);
    expect(credit.gibHours).toBeCloseTo(2, 9);
  });

  it('starts at 0 and the first observation earns nothing', () => {
    const credit = new StorageCredit();
    expect(credit.gibHours).toBe(0);
    credit.observe(1000, GIB);
    expect(credit.gibHours).toBe(0);
  });

  it('counts only bytes held at both ends of an interval', () => {
    const credit = new StorageCredit();
    credit.observe(0, 0);
    credit.observe(30_000, GIB); // the GiB arrived some time in these 30 s: not counted
    expect(credit.gibHours).toBe(0);
    credit.observe(60_000, GIB);
    expect(credit.gibHours).toBeCloseTo(30_000 / HOUR_MS, 12);
    credit.observe(90_000, 0); // dropped some time in these 30 s: not counted either
    expect(credit.gibHours).toBeCloseTo(30_000 / HOUR_MS, 12);
  });

  it('a gap longer than maxGapMs (node asleep or closed) earns nothing; a clock going back restarts', () => {
    const credit = new StorageCredit(60_000);
    credit.observe(0, GIB);
    credit.observe(10 * 60_000, GIB);
    expect(credit.gibHours).toBe(0);
    credit.observe(10 * 60_000 + 1000, GIB);
    const after = credit.gibHours;
    expect(after).toBeCloseTo(1000 / HOUR_MS, 12);
    credit.observe(5000, GIB);
    expect(credit.gibHours).toBe(after);
    credit.observe(6000, GIB);
    expect(credit.gibHours).toBeCloseTo(after + 1000 / HOUR_MS, 12);
  });

  it('survives a restart through its JSON state, and continues from the last observation', () => {
    const a = new StorageCredit();
    const t = hold(a, 0, 121, GIB);
    const saved = JSON.parse(JSON.stringify(a.state())) as unknown;
    const b = new StorageCredit();
    expect(b.restore(saved)).toBe(true);
    expect(b.gibHours).toBeCloseTo(a.gibHours, 12);
    b.observe(t - 1000 + 5000, GIB); // reloaded 5 s later: still within maxGapMs
    expect(b.gibHours).toBeCloseTo(a.gibHours + 5000 / HOUR_MS, 12);
  });

  it('refuses a forged or damaged state and ignores non-finite input', () => {
    const credit = new StorageCredit();
    expect(credit.restore({ v: 1, gibHours: -5, last: null })).toBe(false);
    expect(credit.restore({ v: 2, gibHours: 1, last: null })).toBe(false);
    expect(credit.restore({ v: 1, gibHours: 1, last: null, extra: true })).toBe(false);
    expect(credit.restore('lots')).toBe(false);
    expect(credit.gibHours).toBe(0);
    credit.observe(0, GIB);
    credit.observe(Number.NaN, GIB);
    credit.observe(1000, Number.POSITIVE_INFINITY);
    credit.observe(2000, GIB);
    expect(credit.gibHours).toBeCloseTo(2000 / HOUR_MS, 12);
  });
});
