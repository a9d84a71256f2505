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
  private readonly queue: SimEnvelope[] = [];
  private readonly cycleMs: number;
  /** Cycles run so far. */
  cycle = 0;

  constructor(
    readonly network: SimNetwork,
    options: CycleEngineOptions = {},
  ) {
    this.cycleMs = options.cycleMs ?? 1000;
    network.scheduler = (env) => {
      this.queue.push(env);
    };
  }

  /** Runs `cycles` cycles; `after(cycle)` is called after each one (for measurements). */
  run(cycles: number, after?: (cycle: number) => void): void {
    for (let c = 0; c < cycles; c++) {
      this.network.now = this.cycle * this.cycleMs;
      for (const node of this.network.rng.shuffled(this.network.live())) {
        this.network.tick(node);
        this.drain();
      }
      this.cycle++;
      after?.(this.cycle);
    }
  }

  /** Delivers queued messages (and what they cause) until none is left. */
  drain(): void {
    for (let i = 0; i < this.queue.length; i++) this.network.deliver(this.queue[i]!);
    this.queue.length = 0;
  }
}
