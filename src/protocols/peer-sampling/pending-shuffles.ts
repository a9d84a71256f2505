/**
 * Cyclon's record of its shuffles awaiting a reply: for each of the last `capacity` targets, the peers it sent
 * (in the order sent) with their keys, so that the reply overwrites exactly those (Voulgaris et al. 2005, the
 * initiator's merge); and where each stood in the view, with the owner's version of its view then, so that a reply
 * to an unchanged view finds them without looking. It behaves as an insertion-ordered map target → sent peers that
 * drops its oldest record when one more arrives, and where recording a target again makes its record the newest.
 *
 * It is a fixed table kept in a region of an array its owner allocates once per node (Cyclon keeps its view in
 * the same array), because a node records one shuffle per cycle: at 10^5 simulated nodes a Map entry and two
 * arrays per record were a large part of the garbage the simulator made, and every separate object is one more
 * scattered memory access. The region is laid out field by field (all targets, then all their keys, stamps and
 * counts side by side), so finding a target reads one or two cache lines instead of one per record; looking
 * targets up by key (see Cyclon's keyOf) reads no id strings.
 */
import type { PeerId } from '../../core/ids.ts';

/** The target key of a free slot (keys are never negative), so that no lookup can match it. */
const FREE = -1;

/** Where record r's fields sit in the region, for capacity C and width W (sent peers per record). */
const TARGETS = 0; // + r: the target ('' when free)
const TARGET_KEYS = 1; // · C + r
const STAMPS = 2; // · C + r: when it was made (a counter, to find the oldest)
const COUNTS = 3; // · C + r: peers sent
const VERSIONS = 4; // · C + r: the owner's version of its view when the peers were sent
const SENT = 5; // · C + r·W + i: the i-th peer sent; then C·W keys of them, C·W positions of them; then the clock

export class PendingShuffles {
  private readonly targetKeysAt: number;
  private readonly stampsAt: number;
  private readonly countsAt: number;
  private readonly versionsAt: number;
  private readonly sentAt: number;
  private readonly sentKeysAt: number;
  private readonly sentPositionsAt: number;
  private readonly clockAt: number;

  /** The number of array elements the table needs. */
  static sizeFor(capacity: number, width: number): number {
    return SENT * capacity + 3 * capacity * width + 1;
  }

  /** A table in `store[base .. base + sizeFor(capacity, width))`, which it initialises. */
  constructor(
    private readonly store: (PeerId | number)[],
    base: number,
    readonly capacity: number,
    /** The most peers one shuffle sends. */
    readonly width: number,
  ) {
    this.targetKeysAt = base + TARGET_KEYS * capacity;
    this.stampsAt = base + STAMPS * capacity;
    this.countsAt = base + COUNTS * capacity;
    this.versionsAt = base + VERSIONS * capacity;
    this.sentAt = base + SENT * capacity;
    this.sentKeysAt = this.sentAt + capacity * width;
    this.sentPositionsAt = this.sentKeysAt + capacity * width;
    this.clockAt = this.sentPositionsAt + capacity * width;
    for (let i = base; i <= this.clockAt; i++) store[i] = 0;
    for (let r = 0; r < capacity; r++) {
      store[base + TARGETS + r] = '';
      store[this.targetKeysAt + r] = FREE;
    }
    for (let i = this.sentAt; i < this.sentKeysAt; i++) store[i] = '';
  }

  /**
   * Starts the record of a shuffle to `target`: it replaces an earlier record for the same target, or takes a free
   * slot, or else the oldest record's. Returns the slot for `add`.
   */
  open(target: PeerId, key: number): number {
    const store = this.store;
    let slot = this.find(target, key);
    if (slot < 0) {
      const targetsAt = this.targetKeysAt - this.capacity;
      let oldest = 0;
      for (let r = 0; r < this.capacity; r++) {
        if (store[targetsAt + r] === '') {
          slot = r;
          break;
        }
        if ((store[this.stampsAt + r] as number) < (store[this.stampsAt + oldest] as number)) oldest = r;
      }
      if (slot < 0) slot = oldest;
    }
    const clock = (store[this.clockAt] as number) + 1;
    store[this.clockAt] = clock;
    store[this.targetKeysAt - this.capacity + slot] = target;
    store[this.targetKeysAt + slot] = key;
    store[this.stampsAt + slot] = clock;
    store[this.countsAt + slot] = 0;
    return slot;
  }

  /** Appends a sent peer to the record in `slot` (at most `width`), with where it stood in the view when sent. */
  add(slot: number, peer: PeerId, key: number, position: number): void {
    const i = this.store[this.countsAt + slot] as number;
    this.store[this.countsAt + slot] = i + 1;
    const at = slot * this.width + i;
    this.store[this.sentAt + at] = peer;
    this.store[this.sentKeysAt + at] = key;
    this.store[this.sentPositionsAt + at] = position;
  }

  /**
   * Removes the record for `target` and returns its slot, or -1 if there is none. The slot's peers stay readable
   * (count, peer, key) until the next `open`.
   */
  take(target: PeerId, key: number): number {
    const slot = this.find(target, key);
    if (slot >= 0) {
      this.store[this.targetKeysAt - this.capacity + slot] = '';
      this.store[this.targetKeysAt + slot] = FREE;
    }
    return slot;
  }

  /** Tags the record with its owner's version of the view (see Cyclon), read back by `version`. */
  setVersion(slot: number, version: number): void {
    this.store[this.versionsAt + slot] = version;
  }

  version(slot: number): number {
    return this.store[this.versionsAt + slot] as number;
  }

  count(slot: number): number {
    return this.store[this.countsAt + slot] as number;
  }

  peer(slot: number, i: number): PeerId {
    return this.store[this.sentAt + slot * this.width + i] as PeerId;
  }

  key(slot: number, i: number): number {
    return this.store[this.sentKeysAt + slot * this.width + i] as number;
  }

  /** Where the i-th peer stood in the view when it was sent (it may have moved or left since). */
  position(slot: number, i: number): number {
    return this.store[this.sentPositionsAt + slot * this.width + i] as number;
  }

  private find(target: PeerId, key: number): number {
    const store = this.store;
    const targetsAt = this.targetKeysAt - this.capacity;
    for (let r = 0; r < this.capacity; r++) {
      if (store[this.targetKeysAt + r] === key && store[targetsAt + r] === target) return r;
    }
    return -1;
  }
}
