/**
 * Wire format of the storage service, envelope `p: 'storage'`. Each message is a frame: this JSON header plus,
 * for chunk-carrying messages, the chunk's bytes as the frame body (up to MAX_CHUNK_BODY).
 *
 *   { t: 'put',    req, chunk, replicate }  body = chunk    store this chunk; if `replicate`, the receiver is the
 *                                                           owner and copies it on to its successors (r - 1)
 *   { t: 'stored', req, chunk, holders }                    the chunk is held by `holders` (the receiver first)
 *   { t: 'get',    req, chunk }                             send me this chunk
 *   { t: 'chunk',  req, chunk }            body = chunk     the answer (the receiver checks its SHA-256)
 *   { t: 'locate', req, chunk }                             which peers should hold this chunk? (ask its owner)
 *   { t: 'holders', req, chunk, holders }                   the owner's replica set for it
 *   { t: 'has',    req, chunks }                            which of these do you hold? (before re-replicating)
 *   { t: 'have',   req, chunks }                            the subset held
 *   { t: 'handover', req, chunk }          body = chunk     graceful leave: keep this chunk, I am going
 *   { t: 'error',  req, code, message }                     a request failed (E_STORE_FULL, E_CHUNK_MISSING…)
 *
 * Mutable named objects (the paper's versioned replica chain, see runtime/services/storage-named.ts); `key` is the
 * 64-hex SHA-256 of the name, its index node the Chord owner of the key's first 40 hex:
 *
 *   { t: 'nlock',    req, key, name }                       writer → index: may I write? (asking again keeps my place)
 *   { t: 'nlockres', req, key, granted, version, holders }  granted (or still queued); the chain's version and holders
 *   { t: 'nput',     req, key, name, version }  body = value  store this version of the object
 *   { t: 'nstored',  req, key, version }                    the holder now stores `version`
 *   { t: 'ncommit',  req, key, holder }                     writer → index: `holder` has the next version
 *   { t: 'ncommitted', req, key, version, replicas }        committed; `replicas` holders confirmed it
 *   { t: 'nrelease', req, key }                             writer → index: giving up the lock without a commit
 *   { t: 'nreleased', req, key }
 *   { t: 'nsync',    req, key, name, version, from }        index → holder: fetch `version` from `from` (answer nstored)
 *   { t: 'nlocate',  req, key }                             reader → index: where is the newest version?
 *   { t: 'nreplicas', req, key, name, version, holders }    the holders of the newest version only
 *   { t: 'nget',     req, key, version }                    send me exactly this version
 *   { t: 'nobject',  req, key, name, version }  body = value  the answer (a holder never sends another version)
 *
 * `req` pairs an answer with its request (per sender). Chunk ids are 64-hex SHA-256 of the bytes.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';

export const STORAGE_PROTOCOL = 'storage';
export const STORAGE_WIRE_VERSION = 1;
/** A plaintext chunk is at most 1 MiB; its ciphertext adds a 12-byte IV and a 16-byte tag. */
export const MAX_CHUNK_BODY = 1024 * 1024 + 64;
export const MAX_HAS_LIST = 512;
export const MAX_HOLDERS = 16;
export const MAX_OBJECT_NAME = 255;
/** A named object's value travels in one frame body. */
export const MAX_NAMED_OBJECT_BYTES = 1024 * 1024;

export const StorageWireErrors = {
  MALFORMED: 'E_STORAGE_MALFORMED',
  BODY_TOO_LARGE: 'E_STORAGE_BODY_TOO_LARGE',
  UNEXPECTED_BODY: 'E_STORAGE_UNEXPECTED_BODY',
} as const;

const chunkId = z.string().regex(/^[0-9a-f]{64}$/);
const peerId = z.string().regex(/^[0-9a-f]{40}$/);
const req = z.number().int().min(0).max(2 ** 31 - 1);
const version = z.number().int().min(0).max(2 ** 31 - 1);
const objectName = z.string().min(1).max(MAX_OBJECT_NAME);

export const storageMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('put'), req, chunk: chunkId, replicate: z.boolean() }).strict(),
  z.object({ t: z.literal('stored'), req, chunk: chunkId, holders: z.array(peerId).max(MAX_HOLDERS) }).strict(),
  z.object({ t: z.literal('get'), req, chunk: chunkId }).strict(),
  z.object({ t: z.literal('chunk'), req, chunk: chunkId }).strict(),
  z.object({ t: z.literal('locate'), req, chunk: chunkId }).strict(),
  z.object({ t: z.literal('holders'), req, chunk: chunkId, holders: z.array(peerId).max(MAX_HOLDERS) }).strict(),
  z.object({ t: z.literal('has'), req, chunks: z.array(chunkId).max(MAX_HAS_LIST) }).strict(),
  z.object({ t: z.literal('have'), req, chunks: z.array(chunkId).max(MAX_HAS_LIST) }).strict(),
  z.object({ t: z.literal('handover'), req, chunk: chunkId }).strict(),
  z.object({ t: z.literal('nlock'), req, key: chunkId, name: objectName }).strict(),
  z.object({ t: z.literal('nlockres'), req, key: chunkId, granted: z.boolean(), version, holders: z.array(peerId).max(MAX_HOLDERS) }).strict(),
  z.object({ t: z.literal('nput'), req, key: chunkId, name: objectName, version }).strict(),
  z.object({ t: z.literal('nstored'), req, key: chunkId, version }).strict(),
  z.object({ t: z.literal('ncommit'), req, key: chunkId, holder: peerId }).strict(),
  z.object({ t: z.literal('ncommitted'), req, key: chunkId, version, replicas: z.number().int().min(0).max(MAX_HOLDERS) }).strict(),
  z.object({ t: z.literal('nrelease'), req, key: chunkId }).strict(),
  z.object({ t: z.literal('nreleased'), req, key: chunkId }).strict(),
  z.object({ t: z.literal('nsync'), req, key: chunkId, name: objectName, version, from: peerId }).strict(),
  z.object({ t: z.literal('nlocate'), req, key: chunkId }).strict(),
  z.object({ t: z.literal('nreplicas'), req, key: chunkId, name: objectName.nullable(), version, holders: z.array(peerId).max(MAX_HOLDERS) }).strict(),
  z.object({ t: z.literal('nget'), req, key: chunkId, version }).strict(),
  z.object({ t: z.literal('nobject'), req, key: chunkId, name: objectName, version }).strict(),
  z.object({ t: z.literal('error'), req, code: z.string().regex(/^E_[A-Z0-9_]{1,48}$/), message: z.string().max(500) }).strict(),
]);
export type StorageMessage = z.infer<typeof storageMessage>;

/** Messages whose frame body is a chunk. */
const WITH_BODY = new Set<StorageMessage['t']>(['put', 'chunk', 'handover', 'nput', 'nobject']);

export function carriesChunk(t: StorageMessage['t']): boolean {
  return WITH_BODY.has(t);
}

/** Validates a storage envelope's `m` and its frame body together. */
export function decodeStorageMessage(m: unknown, body: Uint8Array): Decoded<StorageMessage> {
  if (typeof m !== 'object' || m === null) return reject(StorageWireErrors.MALFORMED, 'message is not an object');
  const parsed = storageMessage.safeParse(m);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(StorageWireErrors.MALFORMED, `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}`);
  }
  const msg = parsed.data;
  if (body.byteLength > MAX_CHUNK_BODY) return reject(StorageWireErrors.BODY_TOO_LARGE, `${body.byteLength} bytes, at most ${MAX_CHUNK_BODY}`);
  if (!carriesChunk(msg.t) && body.byteLength > 0) return reject(StorageWireErrors.UNEXPECTED_BODY, `a "${msg.t}" carries no body`);
  return accept(msg);
}
