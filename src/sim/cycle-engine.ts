/**
 * Cycle-driven engine (PeerSim's CDSimulator): in each cycle every live node ticks once, in a fresh random order;
 * the messages a tick causes (and their answers, transitively) are delivered before the next node ticks, so an
 * exchange completes within the cycle. Transport delays are ignored here; losses are not.
 */
import type { SimEnvelope } from './transport.ts';
import type { SimNetwork } from './network.ts';

export interface CycleEngineOptions {
  /** Simulated milliseconds per cycle, seen by protocols as ctx.now. */
  readonly cycleMs?: number;
}

export class CycleEngine {
  /**
   * Envelopes to deliver, queue[0 .. queued); kept at its largest size (emptying an array by setting its length to
   * 0 drops its storage in V8, and refilling it then allocates anew after every tick).
   */
  private readonly queue: (SimEnvelope | undefined)[] = [];
  private queued = 0;
  private readonly cycleMs: number;
  /** What network.touchAhead read, kept only so that its reads stay in the compiled code. */
  private touched = 0;
  /** Cycles run so far. */
  cycle = 0;

  constructor(
    readonly network: SimNetwork,
    options: CycleEngineOptions = {},
  ) {
    this.cycleMs = options.cycleMs ?? 1000;
    network.scheduler = (env) => {
      this.queue[this.queued++] = env;
    };
  }

  /** Runs `cycles` cycles; `after(cycle)` is called after each one (for measurements). */
  run(cycles: number, after?: (cycle: number) => void): void {
    for (let c = 0; c < cycles; c++) {
      this.network.now = this.cycle * this.cycleMs;
      const order = this.network.rng.shuffled(this.network.live());
      for (let i = 0; i < order.length; i++) {
        if (i + 2 < order.length) this.touched ^= this.network.touchAhead(order[i + 2]!, order[i + 1]!);
        this.network.tick(order[i]!);
        this.drain();
      }
      this.cycle++;
      after?.(this.cycle);
    }
  }

  /** Delivers queued messages (and what they cause) until none is left. */
  drain(): void {
    const queue = this.queue;
    for (let i = 0; i < this.queued; i++) {
      const env = queue[i]!;
      queue[i] = undefined;
      this.network.deliver(env);
    }
    this.queued = 0;
  }
}
