/**
 * A file's manifest: its name, size, the SHA-256 of its plaintext and its chunks in order (id = SHA-256 of the
 * sealed chunk, size = plaintext bytes). It is sealed with the file's key and stored as a chunk itself, so a
 * peer holding it learns nothing; its id is the one in the link. Decoding validates it like any outside input.
 */
import { z } from 'zod';
import { NepheleError } from '../../core/errors.ts';

export const CHUNK_BYTES = 1024 * 1024;
export const MANIFEST_VERSION = 1;
/** 4 GiB of 1 MiB chunks; beyond that a manifest chunk would grow past a chunk. */
export const MAX_CHUNKS = 4096;

const manifestSchema = z.object({
  v: z.literal(MANIFEST_VERSION),
  name: z.string().max(255),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  chunks: z.array(z.object({ id: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().min(0).max(CHUNK_BYTES) }).strict()).max(MAX_CHUNKS),
}).strict();

export type Manifest = z.infer<typeof manifestSchema>;

export function encodeManifest(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(manifest));
}

/** Throws E_STORAGE_BAD_MANIFEST when the bytes are not a consistent manifest. */
export function decodeManifest(bytes: Uint8Array): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new NepheleError('E_STORAGE_BAD_MANIFEST', 'manifest is not UTF-8 JSON');
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new NepheleError('E_STORAGE_BAD_MANIFEST', parsed.error.issues[0]?.message ?? 'invalid manifest');
  const m = parsed.data;
  const total = m.chunks.reduce((sum, c) => sum + c.size, 0);
  if (total !== m.size) throw new NepheleError('E_STORAGE_BAD_MANIFEST', `chunk sizes add up to ${total}, not ${m.size}`);
  return m;
}

/** Plaintext slices of at most CHUNK_BYTES (one empty slice for an empty file, so every file has a chunk). */
export function sliceFile(bytes: Uint8Array): Uint8Array[] {
  if (bytes.byteLength === 0) return [bytes];
  const out: Uint8Array[] = [];
  for (let off = 0; off < bytes.byteLength; off += CHUNK_BYTES) out.push(bytes.subarray(off, Math.min(off + CHUNK_BYTES, bytes.byteLength)));
  return out;
}
