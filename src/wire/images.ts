/**
 * Wire format of guest-image distribution (envelope `p: 'images'`), version 1. Images are content-addressed by
 * sha256; a host that leased a task of an image it lacks fetches it from the submitter in chunks. The bytes
 * travel as the frame body (wire/frame.ts), never as JSON.
 *
 *   get      host → holder   "send me bytes [offset, offset + CHUNK) of the image with this hash"
 *   chunk    holder → host   those bytes as the frame body, with the image's total size
 *   missing  holder → host   the holder does not have that image (any more)
 *
 * Decoded once at the boundary into a typed value or a named rejection; sizes are bounded.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';

export const IMAGES_PROTOCOL = 'images';
export const IMAGES_WIRE_VERSION = 1;
/** Bytes per chunk: well under the edge's reassembly bound, small enough not to starve other traffic. */
export const IMAGE_CHUNK_BYTES = 512 * 1024;
/**
 * Hard cap on one image: room for an x86 domain's booted snapshot (a Linux one is ~8.5 MB) and a small disk,
 * while bounding what a host allocates for one fetch (the buffer is sized from the job's declared size).
 */
export const MAX_IMAGE_BYTES = 128 * 1024 * 1024;

export const ImagesWireErrors = {
  MALFORMED: 'E_IMAGES_MALFORMED',
  UNKNOWN_TYPE: 'E_IMAGES_UNKNOWN_TYPE',
  VERSION: 'E_IMAGES_VERSION',
  BODY: 'E_IMAGES_BAD_BODY',
} as const;

const v = z.literal(IMAGES_WIRE_VERSION);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a content hash is 64 lowercase hex characters');
const offset = z.number().int().min(0).max(MAX_IMAGE_BYTES);

const get = z.strictObject({ v, t: z.literal('get'), sha256, offset });
const chunk = z.strictObject({ v, t: z.literal('chunk'), sha256, offset, total: z.number().int().min(1).max(MAX_IMAGE_BYTES) });
const missing = z.strictObject({ v, t: z.literal('missing'), sha256 });

const schemas = { get, chunk, missing } as const;

export type ImageGetMessage = z.infer<typeof get>;
export type ImageChunkMessage = z.infer<typeof chunk>;
export type ImageMissingMessage = z.infer<typeof missing>;
export type ImagesMessage = ImageGetMessage | ImageChunkMessage | ImageMissingMessage;

/** Validates an `images` envelope's message and its body (only `chunk` carries one, of the right length). */
export function decodeImagesMessage(v: number, m: unknown, body: Uint8Array): Decoded<ImagesMessage> {
  if (v !== IMAGES_WIRE_VERSION) return reject(ImagesWireErrors.VERSION, `images v${v}, expected v${IMAGES_WIRE_VERSION}`);
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return reject(ImagesWireErrors.MALFORMED, 'message is not an object');
  const t = (m as { t?: unknown }).t;
  if (typeof t !== 'string' || !Object.hasOwn(schemas, t)) {
    return reject(ImagesWireErrors.UNKNOWN_TYPE, `unknown images message ${JSON.stringify(String(t)).slice(0, 40)}`);
  }
  const parsed = schemas[t as keyof typeof schemas].safeParse(m);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(ImagesWireErrors.MALFORMED, `${t}: ${issue?.path.map(String).join('.') || 'message'}: ${issue?.message ?? 'invalid'}`);
  }
  const msg = parsed.data as ImagesMessage;
  if (msg.t === 'chunk') {
    const expected = Math.min(IMAGE_CHUNK_BYTES, msg.total - msg.offset);
    if (expected <= 0 || body.byteLength !== expected) {
      return reject(ImagesWireErrors.BODY, `chunk at ${msg.offset} of ${msg.total} carries ${body.byteLength} bytes, expected ${Math.max(0, expected)}`);
    }
  } else if (body.byteLength !== 0) {
    return reject(ImagesWireErrors.BODY, `${msg.t} carries no body, got ${body.byteLength} bytes`);
  }
  return accept(msg);
}
