/**
 * Splits frames into data-channel messages and reassembles them. SCTP data channels carry at most 256 KiB per
 * message (BROWSER.md: one byte more throws), so every frame travels as one or more chunks:
 *
 *   chunk = 0x02 | u32be messageId | u32be totalLength | u32be offset | payload
 *
 * The channel is ordered and reliable, so the chunks of a message arrive in order; anything else is malformed.
 * Chunks of different messages may interleave (a link sends small frames between a large one's chunks,
 * link-send-queue.ts): pending messages are kept by message id.
 * Reassembly is bounded (one frame and all pending frames together at most MAX_REASSEMBLY_BYTES): oversize or
 * malformed messages are dropped with a named rejection, never thrown.
 */
import { accept, reject, type Decoded } from '../core/errors.ts';
import { KIND_DATA } from './link-messages.ts';

export const MAX_CHANNEL_MESSAGE_BYTES = 256 * 1024;
export const CHUNK_HEADER_BYTES = 13;
export const MAX_CHUNK_PAYLOAD = MAX_CHANNEL_MESSAGE_BYTES - CHUNK_HEADER_BYTES;
export const MAX_REASSEMBLY_BYTES = 80 * 1024 * 1024;

/** Cuts `frame` into chunks of at most `maxPayload` payload bytes, all tagged with `messageId`. */
export function splitFrame(messageId: number, frame: Uint8Array, maxPayload = MAX_CHUNK_PAYLOAD): Uint8Array[] {
  if (frame.byteLength > MAX_REASSEMBLY_BYTES) throw new Error(`E_FRAME_TOO_LARGE: ${frame.byteLength} bytes`);
  if (frame.byteLength <= maxPayload) return [chunkOf(messageId, frame, 0, frame.byteLength)];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  do {
    const size = Math.min(maxPayload, frame.byteLength - offset);
    chunks.push(chunkOf(messageId, frame, offset, size));
    offset += size;
  } while (offset < frame.byteLength);
  return chunks;
}

/** One chunk: the header written byte by byte (no DataView per chunk), then the payload copied once. */
function chunkOf(messageId: number, frame: Uint8Array, offset: number, size: number): Uint8Array {
  const chunk = new Uint8Array(CHUNK_HEADER_BYTES + size);
  chunk[0] = KIND_DATA;
  putU32(chunk, 1, messageId >>> 0);
  putU32(chunk, 5, frame.byteLength);
  putU32(chunk, 9, offset);
  chunk.set(size === frame.byteLength ? frame : frame.subarray(offset, offset + size), CHUNK_HEADER_BYTES);
  return chunk;
}

function putU32(into: Uint8Array, at: number, value: number): void {
  into[at] = value >>> 24;
  into[at + 1] = (value >>> 16) & 0xff;
  into[at + 2] = (value >>> 8) & 0xff;
  into[at + 3] = value & 0xff;
}

function getU32(from: Uint8Array, at: number): number {
  return ((from[at]! << 24) | (from[at + 1]! << 16) | (from[at + 2]! << 8) | from[at + 3]!) >>> 0;
}

interface Pending {
  readonly buffer: Uint8Array;
  received: number;
}

/**
 * Reassembles the chunks of one link. `accept` returns the whole frame when its last chunk arrives, else null.
 * A frame that came in one chunk is returned as a view into that chunk (no copy): the caller hands in chunks it
 * owns, e.g. the ArrayBuffer of a data channel message, and so owns the frame.
 */
export class Reassembler {
  private readonly pending = new Map<number, Pending>();
  private pendingBytes = 0;

  constructor(private readonly limit = MAX_REASSEMBLY_BYTES) {}

  accept(chunk: Uint8Array): Decoded<Uint8Array | null> {
    if (chunk.byteLength < CHUNK_HEADER_BYTES || chunk[0] !== KIND_DATA) return reject('E_FRAGMENT_MALFORMED', 'not a data chunk');
    const id = getU32(chunk, 1);
    const total = getU32(chunk, 5);
    const offset = getU32(chunk, 9);
    const payload = chunk.subarray(CHUNK_HEADER_BYTES);
    let entry = this.pending.get(id);
    if (!entry) {
      if (offset !== 0) return reject('E_FRAGMENT_MALFORMED', `message ${id} starts at offset ${offset}`);
      if (total > this.limit) return reject('E_FRAGMENT_TOO_LARGE', `message ${id} of ${total} bytes is over ${this.limit}`);
      if (payload.byteLength === total) return accept(payload);
      if (this.pendingBytes + total > this.limit) return reject('E_REASSEMBLY_FULL', `${this.pendingBytes} bytes already waiting`);
      entry = { buffer: new Uint8Array(total), received: 0 };
      this.pending.set(id, entry);
      this.pendingBytes += total;
    }
    const bad = total !== entry.buffer.byteLength
      ? `total length changed to ${total}`
      : offset !== entry.received
        ? `chunk at ${offset}, expected ${entry.received}`
        : payload.byteLength === 0 || offset + payload.byteLength > total
          ? `chunk of ${payload.byteLength} bytes at ${offset} does not fit ${total}`
          : null;
    if (bad !== null) {
      this.drop(id);
      return reject('E_FRAGMENT_MALFORMED', `message ${id}: ${bad}`);
    }
    entry.buffer.set(payload, offset);
    entry.received += payload.byteLength;
    if (entry.received < total) return accept(null);
    this.drop(id);
    return accept(entry.buffer);
  }

  /** Bytes held for messages not yet complete. */
  get waitingBytes(): number {
    return this.pendingBytes;
  }

  private drop(id: number): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    this.pendingBytes -= entry.buffer.byteLength;
  }
}
