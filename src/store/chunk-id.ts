/**
 * Content addresses of chunks: a chunk's id is the SHA-256 of its bytes, 64 lowercase hex (its first 40 are its
 * ring key, see src/protocols/storage/placement.ts). Hashing uses WebCrypto (`crypto.subtle`), present in
 * browsers, workers and Node 20 alike.
 */
import { bytesToHex } from '../core/ids.ts';
import { NepheleError } from '../core/errors.ts';

const CHUNK_ID = /^[0-9a-f]{64}$/;

export function isChunkId(value: unknown): value is string {
  return typeof value === 'string' && CHUNK_ID.test(value);
}

export async function chunkIdOf(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return bytesToHex(new Uint8Array(digest));
}

/** Throws E_BAD_CHUNK_ID for a malformed id and E_CHUNK_HASH_MISMATCH when the bytes do not hash to it. */
export async function verifyChunk(id: string, bytes: Uint8Array): Promise<void> {
  if (!isChunkId(id)) throw new NepheleError('E_BAD_CHUNK_ID', `not a 64-hex SHA-256 chunk id: ${String(id).slice(0, 70)}`);
  const actual = await chunkIdOf(bytes);
  if (actual !== id) throw new NepheleError('E_CHUNK_HASH_MISMATCH', `chunk ${id.slice(0, 12)}… hashes to ${actual.slice(0, 12)}…`);
}
