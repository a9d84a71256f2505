/**
 * Event-driven engine (PeerSim's EDSimulator): each node ticks every `tickMs` from its own random phase, and each
 * message arrives after the delay its transport gives it (see withLatency), so exchanges overlap and interleave
 * as they do on a real network.
 */
import type { SimEnvelope } from './transport.ts';
import type { SimNetwork, SimNode } from './network.ts';
import { EventQueue } from './event-queue.ts';

export interface EventEngineOptions {
  readonly tickMs?: number;
  /** A node's own period, where nodes tick at different rates (a Node peer at 1 s among browsers at 300 ms). */
  readonly tickMsOf?: (node: SimNode) => number | undefined;
  /** Each period is tickMs ± jitter·tickMs (uniform), as real timers drift. Default 0. */
  readonly jitter?: number;
}

type SimEvent = { readonly kind: 'tick'; readonly node: SimNode } | { readonly kind: 'message'; readonly env: SimEnvelope };

export class EventEngine {
  private readonly queue = new EventQueue<SimEvent>();
  private readonly tickMs: number;
  private readonly tickMsOf: ((node: SimNode) => number | undefined) | undefined;
  private readonly jitter: number;
  /** Nodes of network.all that already have their tick scheduled. */
  private scheduled = 0;

  constructor(
    readonly network: SimNetwork,
    options: EventEngineOptions = {},
  ) {
    this.tickMs = options.tickMs ?? 1000;
    this.tickMsOf = options.tickMsOf;
    this.jitter = options.jitter ?? 0;
    network.scheduler = (env, delay) => this.queue.push(this.network.now + delay, { kind: 'message', env });
  }

  get now(): number {
    return this.network.now;
  }

  /** Processes every event up to and including time `until` (ms); nodes added since the last run start ticking. */
  runUntil(until: number): void {
    this.scheduleNewNodes();
    for (;;) {
      const at = this.queue.peekTime();
      if (at === undefined || at > until) break;
      const event = this.queue.pop()!;
      this.network.now = event.at;
      if (event.item.kind === 'message') {
        this.network.deliver(event.item.env);
        continue;
      }
      const node = event.item.node;
      if (!node.alive) continue;
      this.network.tick(node);
      this.queue.push(event.at + this.period(node), event.item);
    }
    this.network.now = until;
  }

  private scheduleNewNodes(): void {
    const all = this.network.all;
    for (; this.scheduled < all.length; this.scheduled++) {
      const node = all[this.scheduled]!;
      if (node.alive) this.queue.push(this.network.now + this.network.rng.next() * this.baseOf(node), { kind: 'tick', node });
    }
  }

  private baseOf(node: SimNode): number {
    return this.tickMsOf?.(node) ?? this.tickMs;
  }

  private period(node: SimNode): number {
    const base = this.baseOf(node);
    if (this.jitter === 0) return base;
    return base * (1 + (this.network.rng.next() * 2 - 1) * this.jitter);
  }
}
