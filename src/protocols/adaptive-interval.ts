/**
 * The pace of a periodic task that backs off while it finds nothing new: after a run that left the watched state
 * as it was, the steps to the next run double, up to `max`; any change of the state runs the task at once and
 * brings the interval back to 1 step. Chord's maintenance rounds (adaptive stabilisation, chord.ts) and Sliver's
 * pushes (sliver.ts) use it; with `max` = 1 the task runs every step, as in both papers.
 *
 * The caller describes the watched state by a stamp (any string that differs when the state differs) and asks once
 * per step. Pure: no clock, the caller counts steps.
 */
export class AdaptiveInterval {
  private interval = 1;
  private nextAt = 0;
  private lastStamp: string | null = null;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`E_INTERVAL_OPTIONS: the most steps between runs must be an integer >= 1, not ${max}`);
  }

  /** Steps between runs at the moment. */
  get current(): number {
    return this.interval;
  }

  /** Whether the task runs at step `step`, whose state is described by `stamp`. Call once per step. */
  due(step: number, stamp: string): boolean {
    const changed = stamp !== this.lastStamp;
    this.lastStamp = stamp;
    if (changed) this.interval = 1;
    else if (step < this.nextAt) return false;
    else this.interval = Math.min(this.max, this.interval * 2);
    this.nextAt = step + this.interval;
    return true;
  }
}
