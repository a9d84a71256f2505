/**
 * Cyclon's record of its shuffles awaiting a reply: for each of the last `capacity` targets, the peers it sent
 * (in the order sent) with their keys, so that the reply overwrites exactly those (Voulgaris et al. 2005, the
 * initiator's merge). It behaves as an insertion-ordered map target → sent peers that drops its oldest record
 * when one more arrives, and where recording a target again makes its record the newest.
 *
 * It is a fixed table in two flat arrays (one of ids, one of numbers) allocated once per node, because a node
 * records one shuffle per cycle: at 10^5 simulated nodes a Map entry and two arrays per record were a large part
 * of the garbage the simulator made and of the memory it had to walk; looking targets up by key (see Cyclon's
 * keyOf) reads no id strings.
 */
import type { PeerId } from '../../core/ids.ts';

/** Record r's ids: ids[r·(1 + width)] is its target (null when the slot is free), then the peers sent. */
const TARGET = 0;
const FIRST_SENT = 1;
/** Record r's numbers: the target's key, when it was made (a counter, to find the oldest), the count sent, keys. */
const TARGET_KEY = 0;
const STAMP = 1;
const COUNT = 2;
const FIRST_SENT_KEY = 3;

export class PendingShuffles {
  private readonly ids: (PeerId | null)[];
  private readonly numbers: number[];
  private clock = 0;

  constructor(
    readonly capacity: number,
    /** The most peers one shuffle sends. */
    readonly width: number,
  ) {
    this.ids = Array.from({ length: capacity * (FIRST_SENT + width) }, () => null);
    this.numbers = Array.from({ length: capacity * (FIRST_SENT_KEY + width) }, () => 0);
  }

  /**
   * Starts the record of a shuffle to `target`: it replaces an earlier record for the same target, or takes a free
   * slot, or else the oldest record's. Returns the slot for `add`.
   */
  open(target: PeerId, key: number): number {
    let slot = this.find(target, key);
    if (slot < 0) {
      let oldest = 0;
      for (let r = 0; r < this.capacity; r++) {
        if (this.ids[this.idBase(r) + TARGET] === null) {
          slot = r;
          break;
        }
        if (this.numbers[this.numberBase(r) + STAMP]! < this.numbers[this.numberBase(oldest) + STAMP]!) oldest = r;
      }
      if (slot < 0) slot = oldest;
    }
    const n = this.numberBase(slot);
    this.ids[this.idBase(slot) + TARGET] = target;
    this.numbers[n + TARGET_KEY] = key;
    this.numbers[n + STAMP] = ++this.clock;
    this.numbers[n + COUNT] = 0;
    return slot;
  }

  /** Appends a sent peer to the record in `slot` (at most `width`). */
  add(slot: number, peer: PeerId, key: number): void {
    const n = this.numberBase(slot);
    const i = this.numbers[n + COUNT]!;
    this.numbers[n + COUNT] = i + 1;
    this.ids[this.idBase(slot) + FIRST_SENT + i] = peer;
    this.numbers[n + FIRST_SENT_KEY + i] = key;
  }

  /**
   * Removes the record for `target` and returns its slot, or -1 if there is none. The slot's peers stay readable
   * (count, peer, key) until the next `open`.
   */
  take(target: PeerId, key: number): number {
    const slot = this.find(target, key);
    if (slot >= 0) this.ids[this.idBase(slot) + TARGET] = null;
    return slot;
  }

  count(slot: number): number {
    return this.numbers[this.numberBase(slot) + COUNT]!;
  }

  peer(slot: number, i: number): PeerId {
    return this.ids[this.idBase(slot) + FIRST_SENT + i]!;
  }

  key(slot: number, i: number): number {
    return this.numbers[this.numberBase(slot) + FIRST_SENT_KEY + i]!;
  }

  private find(target: PeerId, key: number): number {
    for (let r = 0; r < this.capacity; r++) {
      if (this.numbers[this.numberBase(r) + TARGET_KEY] === key && this.ids[this.idBase(r) + TARGET] === target) return r;
    }
    return -1;
  }

  private idBase(slot: number): number {
    return slot * (FIRST_SENT + this.width);
  }

  private numberBase(slot: number): number {
    return slot * (FIRST_SENT_KEY + this.width);
  }
}
