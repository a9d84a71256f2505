/** RedrawThrottle (src/ui/redraw-throttle.ts): the compute and storage panels' redraw pace while work runs. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RedrawThrottle } from '../../src/ui/redraw-throttle.ts';

describe('RedrawThrottle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('draws at once when idle, at most once per gap while busy, and the last offer when the gap ends', () => {
    const drawn: number[] = [];
    const throttle = new RedrawThrottle(250);
    throttle.offer(false, () => drawn.push(1));
    expect(drawn).toEqual([1]);
    throttle.offer(true, () => drawn.push(2));
    vi.advanceTimersByTime(100);
    throttle.offer(true, () => drawn.push(3));
    expect(drawn).toEqual([1]);
    vi.advanceTimersByTime(150);
    expect(drawn).toEqual([1, 3]);
    vi.advanceTimersByTime(1000);
    expect(drawn).toEqual([1, 3]);
  });

  it('draws the final state at once when work ends inside a gap, and nothing after dispose', () => {
    const drawn: string[] = [];
    const throttle = new RedrawThrottle(500);
    throttle.offer(true, () => drawn.push('first'));
    throttle.offer(true, () => drawn.push('busy'));
    throttle.offer(false, () => drawn.push('done'));
    expect(drawn).toEqual(['first', 'done']);
    throttle.offer(true, () => drawn.push('late'));
    throttle.dispose();
    vi.advanceTimersByTime(1000);
    expect(drawn).toEqual(['first', 'done']);
  });
});
