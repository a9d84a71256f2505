/**
 * Per-connection rate limiting for the signaling server: a token bucket admits `perSecond` messages a second
 * with bursts of up to `burst`; a second, leaky counter of refused messages detects sustained abuse (a client
 * that keeps sending well above the rate), after which the server closes the connection.
 *
 * The clock is passed in (`now` in milliseconds), so the limiter is pure and testable without sleeping.
 */

export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 50, burst: 100 };

/**
 * What to do with one incoming message:
 * - `accept`: process it;
 * - `limit`: drop it and tell the client (the first refusal after an accepted message);
 * - `drop`: drop it silently (the client has already been told; replying to each would amplify a flood);
 * - `abuse`: the client kept flooding; close the connection.
 */
export type RateVerdict = 'accept' | 'limit' | 'drop' | 'abuse';

export class ConnectionRateLimiter {
  private tokens: number;
  private lastRefill: number;
  /** Refused messages, leaking away at `perSecond`; over `burst` means sustained abuse. */
  private strikes = 0;
  private lastLeak: number;
  private told = false;

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError('rate limit needs perSecond > 0 and burst >= 1');
    this.tokens = limit.burst;
    this.lastRefill = now;
    this.lastLeak = now;
  }

  admit(now: number): RateVerdict {
    const elapsed = Math.max(0, now - this.lastRefill) / 1000;
    this.tokens = Math.min(this.limit.burst, this.tokens + elapsed * this.limit.perSecond);
    this.lastRefill = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.told = false;
      return 'accept';
    }
    const leaked = (Math.max(0, now - this.lastLeak) / 1000) * this.limit.perSecond;
    this.strikes = Math.max(0, this.strikes - leaked) + 1;
    this.lastLeak = now;
    if (this.strikes > this.limit.burst) return 'abuse';
    if (this.told) return 'drop';
    this.told = true;
    return 'limit';
  }
}
