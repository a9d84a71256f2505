/**
 * The Chord ring as the storage service uses it: hosts the pure Chord protocol (src/protocols/chord/chord.ts) in
 * a protocol slot, and turns its lookups into promises. The slot wraps the protocol so that every answer the
 * protocol completes — in a tick, a message or a direct call — is handed to its waiting caller at once, instead
 * of waiting for the next node tick to poll `takeCompleted`. Its Chord waits longer for a neighbour's answers than
 * Chord's default (STABILIZE_REPLY_TICKS), and stabilises adaptively: every tick while the ring changes, down to
 * every ROUND_INTERVAL_CAP ticks while it stays as it is (an idle ring's maintenance was a third of a node's frames).
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, Protocol, ProtocolContext } from '../../core/protocol.ts';
import { NepheleError } from '../../core/errors.ts';
import { Chord } from '../../protocols/chord/chord.ts';
import type { View } from '../../protocols/peer-sampling/view.ts';
import { CHORD_WIRE_VERSION, decodeChordMessage, type ChordMessage } from '../../wire/chord.ts';
import type { ProtocolSlot } from '../protocol-host.ts';

type Out = Effect<ChordMessage>[];

/**
 * Ticks a successor (stabilize) or predecessor (ping) may take to answer before Chord drops it (Chord's default is
 * 3). The ring's messages share each link's ordered channel with chunk transfers: behind 8 MiB of a put's chunks at
 * a few MB/s they wait seconds, and at 3 ticks (0.9 s at 300 ms ticks) a busy but live neighbour would be dropped
 * and re-added during a large put, so putter, owners and getter would see different rings. A neighbour that is
 * really gone is still dropped at once when its link closes (onPeerDown); this is only the silent-peer fallback.
 */
export const STABILIZE_REPLY_TICKS = 10;

/**
 * Most ticks between Chord maintenance rounds on a ring that stopped changing (Chord's maxRoundIntervalTicks). A
 * silent dead neighbour is then dropped within ROUND_INTERVAL_CAP + STABILIZE_REPLY_TICKS ticks; one whose link
 * closes is dropped at once, as before.
 */
export const ROUND_INTERVAL_CAP = 8;

/**
 * Most ticks the reply timeout grows to when neighbours taken for dead turn out to be alive (Chord's
 * maxReplyTimeoutTicks; silence-detector.ts): 60 ticks, 18 s at the bench's 300 ms ticks, longer than a message
 * may wait for a link to be dialed (CONNECT_TIMEOUT_MS + 1 s), so a neighbour behind a slow dial is not dropped
 * before the runtime says whether it can be reached. With round trips above the 10-tick base (as 32 browser peers
 * at load average 40 have), a fixed timeout emptied every successor list (tests/sim/chord-browser-join.sim.test.ts).
 */
export const MAX_STABILIZE_REPLY_TICKS = 60;

/**
 * Most ticks Chord's lookup timeout (4 ticks, 1.2 s at 300 ms) grows to when answers come after it gave up
 * (maxLookupTimeoutTicks): under the same load a join's lookup took longer than 1.2 s, its answer was thrown away,
 * and a node that had lost its successors could not join again.
 */
export const MAX_LOOKUP_TIMEOUT_TICKS = 32;

export interface RingDeps {
  readonly self: PeerId;
  readonly view: View;
  readonly run: <M>(protocol: string, fn: (ctx: ProtocolContext) => Effect<M>[]) => void;
  /** Called after every step in which the successor list or the predecessor may have changed. */
  readonly onNeighbours: () => void;
}

interface Waiter {
  resolve(owner: PeerId): void;
  reject(err: Error): void;
}

export class StorageRing {
  readonly chord: Chord;
  readonly slot: ProtocolSlot<ChordMessage>;
  private readonly waiting = new Map<string, Waiter>();
  private nextRequest = 0;

  constructor(private readonly deps: RingDeps) {
    this.chord = new Chord(deps.self, {
      view: deps.view, replyTimeoutTicks: STABILIZE_REPLY_TICKS, maxReplyTimeoutTicks: MAX_STABILIZE_REPLY_TICKS,
      maxLookupTimeoutTicks: MAX_LOOKUP_TIMEOUT_TICKS, maxRoundIntervalTicks: ROUND_INTERVAL_CAP,
    });
    const chord = this.chord;
    const settle = (out: Out): Out => {
      this.drain();
      deps.onNeighbours();
      return out;
    };
    const protocol: Protocol<ChordMessage> = {
      name: chord.name,
      onTick: (ctx) => settle(chord.onTick(ctx)),
      onMessage: (ctx, from, msg) => settle(chord.onMessage(ctx, from, msg)),
      onPeerDown: (ctx, peer) => settle(chord.onPeerDown(ctx, peer)),
      onPeersDiscovered: (ctx, peers) => settle(chord.onPeersDiscovered(ctx, peers)),
    };
    this.slot = { protocol, version: CHORD_WIRE_VERSION, decode: decodeChordMessage };
  }

  /** The owner (successor) of a 40-hex ring key. Rejects with E_CHORD_LOOKUP_TIMEOUT after Chord's retries. */
  lookup(key: string): Promise<PeerId> {
    const requestId = `s${this.nextRequest++}`;
    return new Promise<PeerId>((resolve, reject) => {
      this.waiting.set(requestId, { resolve, reject });
      this.deps.run<ChordMessage>('chord', (ctx) => this.chord.lookup(ctx, key, requestId));
      this.drain();
    });
  }

  successors(): PeerId[] {
    return this.chord.successors.ids();
  }

  predecessor(): PeerId | undefined {
    return this.chord.predecessor();
  }

  private drain(): void {
    for (const result of this.chord.takeCompleted()) {
      const waiter = this.waiting.get(result.requestId);
      if (!waiter) continue;
      this.waiting.delete(result.requestId);
      if (result.ok) waiter.resolve(result.owner);
      else waiter.reject(new NepheleError(result.code, `lookup of ${result.key.slice(0, 12)}… failed after ${result.attempts} attempt(s)`));
    }
  }
}
