/**
 * When Chord takes a silent neighbour for dead: the successor it asked for its predecessor (stabilize) or the
 * predecessor it pinged (check_predecessor) has not answered within the reply timeout. With `maxTimeoutTicks`
 * above the base timeout this is an eventually perfect failure detector in the manner of Chandra and Toueg
 * ("Unreliable Failure Detectors for Reliable Distributed Systems", JACM 43(2), 1996, the ◇P algorithm for
 * partial synchrony): a peer heard from after it was taken for dead was only slow, so the timeout doubles, up to
 * the cap. Otherwise the timeout stays fixed, as in the Chord paper.
 *
 * Why it matters: 32 browser peers on 2 cores (load average 40) answer in seconds, not milliseconds. With a fixed
 * timeout of 3 s below their round trip, every node dropped its live successor every round, then the next one,
 * until no successor was left (tests/sim/chord-browser-join.sim.test.ts reproduces it; the 32-peer bench saw
 * every tab fall back to 0–1 successors after the ring had formed).
 */
import type { PeerId } from '../../core/ids.ts';

export type AwaitedReply = 'pred' | 'pong';

interface Wait {
  readonly peer: PeerId;
  readonly since: number;
}

/** Peers remembered as taken for dead (to notice a false suspicion); the oldest are forgotten beyond this. */
const MAX_SUSPECTS = 64;
/** Checked in this order (the order the protocol's timeouts always fired in). */
const KINDS: readonly AwaitedReply[] = ['pred', 'pong'];

/** On-time answers in a row after which a grown timeout halves again (towards its base), once the load has passed. */
export const ON_TIME_TO_SHRINK = 32;

/**
 * A timeout in ticks that doubles, up to `max`, each time an answer it had given up on arrives after all (with
 * `max` equal to `base` it stays fixed), and halves back after ON_TIME_TO_SHRINK answers in time, so a dead peer is
 * again noticed quickly once a busy spell is over. Chord's lookups use one too: a `found` for a lookup given up on.
 */
export class GrowingTimeout {
  private current: number;
  private onTimeInARow = 0;

  constructor(
    readonly base: number,
    readonly max = base,
  ) {
    if (!(base >= 1) || !(max >= base)) throw new Error(`E_CHORD_OPTIONS: a timeout needs 1 <= base (${base}) <= max (${max})`);
    this.current = base;
  }

  get ticks(): number {
    return this.current;
  }

  get grows(): boolean {
    return this.current < this.max;
  }

  /** An answer came after the timeout had given up on it. */
  late(): void {
    this.current = Math.min(this.max, this.current * 2);
    this.onTimeInARow = 0;
  }

  /** An answer came in time: after ON_TIME_TO_SHRINK of them in a row, a grown timeout halves (not below its base). */
  onTime(): void {
    if (this.current === this.base || ++this.onTimeInARow < ON_TIME_TO_SHRINK) return;
    this.current = Math.max(this.base, Math.floor(this.current / 2));
    this.onTimeInARow = 0;
  }
}

export class SilenceDetector {
  private readonly waits = new Map<AwaitedReply, Wait>();
  private readonly suspects = new Set<PeerId>();
  private readonly timeout: GrowingTimeout;
  /** Times a peer taken for dead was heard from again. */
  falseSuspicions = 0;

  constructor(baseTimeoutTicks: number, maxTimeoutTicks = baseTimeoutTicks) {
    this.timeout = new GrowingTimeout(baseTimeoutTicks, maxTimeoutTicks);
  }

  /** Ticks a peer has to answer at the moment. */
  get timeoutTicks(): number {
    return this.timeout.ticks;
  }

  /** The peer whose `kind` answer is awaited, if any. */
  awaiting(kind: AwaitedReply): PeerId | undefined {
    return this.waits.get(kind)?.peer;
  }

  expect(kind: AwaitedReply, peer: PeerId, tick: number): void {
    this.waits.set(kind, { peer, since: tick });
  }

  /** The `kind` answer came from `peer` (an answer from anyone else leaves the wait as it is). */
  answered(kind: AwaitedReply, peer: PeerId): void {
    if (this.waits.get(kind)?.peer !== peer) return;
    this.waits.delete(kind);
    this.timeout.onTime();
  }

  /** No `kind` answer is awaited any more (e.g. the predecessor changed). */
  cancel(kind: AwaitedReply): void {
    this.waits.delete(kind);
  }

  /** A message came from `peer`: if it had been taken for dead, that was wrong, and the timeout doubles. */
  heard(peer: PeerId): void {
    if (!this.suspects.delete(peer)) return;
    this.falseSuspicions++;
    this.timeout.late();
  }

  /** The peer is gone (its link closed, or it was taken for dead): nothing is awaited from it. */
  forget(peer: PeerId): void {
    for (const [kind, wait] of this.waits) if (wait.peer === peer) this.waits.delete(kind);
  }

  /** Peers whose awaited answer is overdue at `tick`: they are taken for dead (and remembered as suspects). */
  overdue(tick: number): PeerId[] {
    const out: PeerId[] = [];
    for (const kind of KINDS) {
      const wait = this.waits.get(kind);
      if (!wait || tick - wait.since < this.timeout.ticks) continue;
      this.waits.delete(kind);
      if (!out.includes(wait.peer)) out.push(wait.peer);
      if (!this.timeout.grows) continue;
      this.suspects.delete(wait.peer);
      this.suspects.add(wait.peer);
      if (this.suspects.size > MAX_SUSPECTS) this.suspects.delete(this.suspects.values().next().value!);
    }
    return out;
  }
}
