/** The options of a Chord node (chord.ts): list lengths, timeouts and how they may grow, round intervals, merge checks. */
import type { View } from '../peer-sampling/view.ts';

export interface ChordOptions {
  /** Successor list length r (default 8). */
  readonly successors?: number;
  /** Ticks before an unanswered lookup is retried (default 4). */
  readonly lookupTimeoutTicks?: number;
  /** Most ticks the lookup timeout grows to: each answer to a lookup already given up on doubles it (default lookupTimeoutTicks: fixed). */
  readonly maxLookupTimeoutTicks?: number;
  /** Attempts per lookup before it fails with E_CHORD_LOOKUP_TIMEOUT (default 3). */
  readonly lookupAttempts?: number;
  /** Ticks before a silent successor (stabilize) or predecessor (ping) is taken for dead (default 3). */
  readonly replyTimeoutTicks?: number;
  /**
   * Most ticks the reply timeout may grow to: each peer heard from after it was taken for dead doubles it
   * (silence-detector.ts). Default replyTimeoutTicks: a fixed timeout.
   */
  readonly maxReplyTimeoutTicks?: number;
  /** Where to find a peer to join through when the node has no successor, or to look for another ring through. */
  readonly view?: View;
  /** Ticks between lookups of the node's own id through a random view peer, to merge separate rings (default 10; 0 = never). */
  readonly mergeCheckTicks?: number;
  /** Most ticks between maintenance rounds while they change nothing (see the file comment; default 1 = every tick). */
  readonly maxRoundIntervalTicks?: number;
}
