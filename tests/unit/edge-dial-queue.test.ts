/**
 * The edge's dial queue (src/net/dial-queue.ts): dials wait first come first served, a peer queued twice keeps
 * its place, and a dial that waited longer than the limit is handed back as expired instead of started late.
 */
import { describe, expect, it } from 'vitest';
import { DialQueue } from '../../src/net/dial-queue.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

describe('DialQueue', () => {
  it('hands out queued dials in order, once each', () => {
    const q = new DialQueue(1000, () => 0);
    q.add(A);
    q.add(B);
    q.add(A);
    expect(q.size).toBe(2);
    const never = (): void => {
      throw new Error('nothing expired');
    };
    expect(q.next(never)).toBe(A);
    expect(q.next(never)).toBe(B);
    expect(q.next(never)).toBeNull();
  });

  it('skips and reports dials that waited too long', () => {
    let now = 0;
    const q = new DialQueue(1000, () => now);
    q.add(A);
    now = 600;
    q.add(B);
    q.add(C);
    q.delete(C);
    now = 1500;
    const expired: [string, number][] = [];
    expect(q.next((peer, waited) => expired.push([peer, waited]))).toBe(B);
    expect(expired).toEqual([[A, 1500]]);
    expect(q.has(C)).toBe(false);
    expect(q.size).toBe(0);
  });
});
