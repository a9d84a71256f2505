/**
 * AdaptiveInterval (src/protocols/adaptive-interval.ts), the pace of Chord's maintenance rounds and Sliver's
 * pushes: runs every step while the watched state changes, doubles the gap after each run that found it unchanged,
 * never beyond the cap, and runs at once when the state changes again.
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveInterval } from '../../src/protocols/adaptive-interval.ts';

/** The steps in [0, steps) at which the task ran, with the state's stamp at each step given by `stampAt`. */
function runs(pace: AdaptiveInterval, steps: number, stampAt: (step: number) => string, from = 0): number[] {
  const out: number[] = [];
  for (let step = from; step < from + steps; step++) if (pace.due(step, stampAt(step))) out.push(step);
  return out;
}

describe('AdaptiveInterval', () => {
  it('doubles the gap while nothing changes, up to the cap', () => {
    const pace = new AdaptiveInterval(8);
    expect(runs(pace, 40, () => 'same')).toEqual([0, 1, 3, 7, 15, 23, 31, 39]);
    expect(pace.current).toBe(8);
  });

  it('runs at once and every step again after a change', () => {
    const pace = new AdaptiveInterval(8);
    runs(pace, 40, () => 'a');
    // The state changes at step 42 (between two runs 8 steps apart).
    expect(runs(pace, 10, (s) => (s < 42 ? 'a' : 'b'), 40)).toEqual([42, 43, 45, 49]);
    expect(pace.current).toBe(8);
  });

  it('with a cap of 1 runs every step, as the papers do', () => {
    const pace = new AdaptiveInterval(1);
    expect(runs(pace, 6, () => 'same')).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses a cap below 1', () => {
    expect(() => new AdaptiveInterval(0)).toThrow(/E_INTERVAL_OPTIONS/);
  });
});
