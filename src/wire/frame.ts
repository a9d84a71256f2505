/**
 * A frame is one logical message between peers: a JSON header plus an optional binary body, so that large
 * payloads (WASM modules, chunks) travel without base64.
 *
 *   frame = u32be headerLength | header (UTF-8 JSON) | body bytes
 *
 * Decoding never throws: malformed input becomes a named rejection.
 */
import { accept, reject, type Decoded } from '../core/errors.ts';

export const MAX_HEADER_BYTES = 64 * 1024;

export interface Frame {
  readonly header: unknown;
  readonly body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeFrame(header: unknown, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const head = encoder.encode(JSON.stringify(header));
  if (head.byteLength > MAX_HEADER_BYTES) throw new Error(`E_HEADER_TOO_LARGE: ${head.byteLength} bytes`);
  const out = new Uint8Array(4 + head.byteLength + body.byteLength);
  new DataView(out.buffer).setUint32(0, head.byteLength);
  out.set(head, 4);
  out.set(body, 4 + head.byteLength);
  return out;
}

export function decodeFrame(bytes: Uint8Array): Decoded<Frame> {
  if (bytes.byteLength < 4) return reject('E_FRAME_SHORT', `frame of ${bytes.byteLength} bytes has no header length`);
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (headLength > MAX_HEADER_BYTES) return reject('E_HEADER_TOO_LARGE', `header of ${headLength} bytes`);
  if (4 + headLength > bytes.byteLength) return reject('E_FRAME_TRUNCATED', 'header runs past the end of the frame');
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + headLength)));
  } catch {
    return reject('E_HEADER_NOT_JSON', 'frame header is not UTF-8 JSON');
  }
  return accept({ header, body: bytes.subarray(4 + headLength) });
}
