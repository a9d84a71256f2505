/**
 * The outgoing queue of one link, in two lanes. Control messages and frames that fit one channel message go in
 * the urgent lane; the chunks of a larger frame (fragmenter.ts) go in the bulk lane. The urgent lane is served
 * first, so a Chord ping or a storage ack queued behind megabytes of chunk fragments leaves between two of them
 * instead of after all of them. Each lane stays FIFO (order among small messages and among large frames holds);
 * a small frame may overtake a large frame queued before it. The receiver keys fragments by message id, so whole
 * small frames between the fragments of one large frame reassemble correctly.
 *
 * So that a steady stream of small frames cannot hold a large frame back for ever, after URGENT_BURST_BYTES of
 * urgent messages in a row one bulk message goes out when the bulk lane waits.
 */

export const URGENT_BURST_BYTES = 1024 * 1024;

export type Lane = 'urgent' | 'bulk';

/** A FIFO of messages from `head` on (no O(n) shift per message). */
class Fifo {
  private items: (Uint8Array | undefined)[] = [];
  private head = 0;

  get isEmpty(): boolean {
    return this.head === this.items.length;
  }

  push(message: Uint8Array): void {
    this.items.push(message);
  }

  shift(): Uint8Array | undefined {
    if (this.isEmpty) return undefined;
    const next = this.items[this.head]!;
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return next;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export class LinkSendQueue {
  private readonly urgent = new Fifo();
  private readonly bulk = new Fifo();
  private queued = 0;
  /** Urgent bytes taken since the last bulk message, while bulk messages waited. */
  private urgentRun = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes waiting in both lanes. */
  get bytes(): number {
    return this.queued;
  }

  get isEmpty(): boolean {
    return this.urgent.isEmpty && this.bulk.isEmpty;
  }

  /** Nothing small waits: a new small message may go to the channel directly without breaking their order. */
  get urgentIsEmpty(): boolean {
    return this.urgent.isEmpty;
  }

  /** Queues all of `messages` in `lane`, or none of them when that would pass the byte limit. */
  push(lane: Lane, messages: readonly Uint8Array[]): boolean {
    let size = 0;
    for (const m of messages) size += m.byteLength;
    if (this.queued + size > this.maxBytes) return false;
    const fifo = lane === 'urgent' ? this.urgent : this.bulk;
    for (const m of messages) fifo.push(m);
    this.queued += size;
    return true;
  }

  /** The next message to put on the channel: urgent first, except one bulk message after a long urgent run. */
  shift(): Uint8Array | undefined {
    const bulkTurn = this.urgent.isEmpty || (!this.bulk.isEmpty && this.urgentRun >= URGENT_BURST_BYTES);
    const next = bulkTurn ? this.bulk.shift() : this.urgent.shift();
    if (!next) return undefined;
    this.queued -= next.byteLength;
    if (bulkTurn) this.urgentRun = 0;
    else if (!this.bulk.isEmpty) this.urgentRun += next.byteLength;
    return next;
  }

  clear(): void {
    this.urgent.clear();
    this.bulk.clear();
    this.queued = 0;
    this.urgentRun = 0;
  }
}
