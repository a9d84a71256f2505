/**
 * Simulated transports, after PeerSim's `Transport` and its `UnreliableTransport` decorator: a transport decides,
 * for each message, after how many milliseconds it arrives, or that it never does. The memory transport delivers
 * everything at once; latency and loss are decorators that wrap any transport. Each decorator draws from its own
 * seeded rng so that adding one does not disturb the protocols' random streams.
 * `withLinkSetup` models what a browser peer pays the first time it talks to another: the message waits while a
 * WebRTC link is negotiated.
 */
import type { PeerId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';

export interface SimEnvelope {
  readonly from: PeerId;
  readonly to: PeerId;
  /** The protocol's name: the message goes to the protocol of that name on the receiver. */
  readonly protocol: string;
  readonly msg: unknown;
}

export interface Transport {
  /** Delay in ms before `env` is delivered, or null if it is lost. */
  route(env: SimEnvelope): number | null;
}

/** Delivers every message, immediately. */
export function memoryTransport(): Transport {
  return { route: () => 0 };
}

/** Adds a uniformly distributed latency in [minMs, maxMs] (meaningful in the event engine). */
export function withLatency(inner: Transport, rng: Rng, minMs: number, maxMs: number): Transport {
  return {
    route(env) {
      const base = inner.route(env);
      if (base === null) return null;
      return base + minMs + rng.next() * (maxMs - minMs);
    },
  };
}

/** Drops each message independently with probability `p`. */
export function withLoss(inner: Transport, rng: Rng, p: number): Transport {
  return {
    route(env) {
      if (rng.next() < p) return null;
      return inner.route(env);
    },
  };
}

/**
 * The first message between two nodes (either direction) waits an extra [minMs, maxMs] while their link is set up;
 * messages sent meanwhile wait for the same link; later ones pay only the inner delay.
 */
export function withLinkSetup(inner: Transport, rng: Rng, minMs: number, maxMs: number, now: () => number): Transport {
  const readyAt = new Map<string, number>();
  return {
    route(env) {
      const base = inner.route(env);
      if (base === null) return null;
      const key = env.from < env.to ? `${env.from}:${env.to}` : `${env.to}:${env.from}`;
      let ready = readyAt.get(key);
      if (ready === undefined) {
        ready = now() + minMs + rng.next() * (maxMs - minMs);
        readyAt.set(key, ready);
      }
      return Math.max(base, ready - now() + base);
    },
  };
}
