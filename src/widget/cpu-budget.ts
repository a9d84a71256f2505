/**
 * The widget's CPU cap as a duty cycle: after a task that ran d ms, the lender rests d·(1−s)/s ms before taking
 * another, so over time at most a share s of one core's wall-clock goes to the cloud, and only one task runs at
 * a time. Pure: the caller passes the clock.
 */
export class CpuBudget {
  private busy = false;
  private restUntil = 0;
  private share: number;

  constructor(percent: number) {
    this.share = clampShare(percent);
  }

  setPercent(percent: number): void {
    this.share = clampShare(percent);
  }

  get percent(): number {
    return Math.round(this.share * 100);
  }

  /** Why a task may not start now, or null when it may. */
  refusal(now: number): string | null {
    if (this.busy) return 'E_LENDER_BUSY: already running a task (one at a time)';
    if (now < this.restUntil) return `E_CPU_CAP: resting ${Math.ceil(this.restUntil - now)} ms to stay under ${this.percent}% CPU`;
    return null;
  }

  begin(): void {
    this.busy = true;
  }

  end(now: number, ranMs: number): void {
    this.busy = false;
    this.restUntil = Math.max(this.restUntil, now + (Math.max(0, ranMs) * (1 - this.share)) / this.share);
  }
}

function clampShare(percent: number): number {
  const p = Number.isFinite(percent) ? percent : 20;
  return Math.min(1, Math.max(0.01, p / 100));
}
