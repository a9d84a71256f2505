/**
 * A panel's redraws while work is under way (a job running, bytes moving): at most one per `gapMs`, the last
 * offer drawn when the gap ends (trailing), and at once when nothing is under way, so the final state never waits.
 * Rendering every snapshot of a busy node was a large share of a page's CPU (docs/BENCHMARKS.md, compute).
 */
export class RedrawThrottle {
  private drawnAt = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pending: (() => void) | null = null;

  constructor(private readonly gapMs: number) {}

  /** Offers a redraw; `busy` says whether work is under way (then it may wait for the gap). */
  offer(busy: boolean, draw: () => void): void {
    this.pending = draw;
    const wait = this.drawnAt + this.gapMs - performance.now();
    if (!busy || wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.drawnAt = performance.now();
    const draw = this.pending;
    this.pending = null;
    draw?.();
  }
}
