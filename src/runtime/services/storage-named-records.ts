/**
 * What a node remembers about mutable named objects (storage-named.ts) across a restart, and the copy of a replica
 * index that travels to the index node's successors so one of them can take over when it dies:
 *
 * - a held record per key: the name, the version this node holds, and the chunk (sha256 of the value) that holds
 *   the value's bytes in the node's chunk store, so values count against the lent quota and survive a reload;
 * - an index record per key: the replica chain as its index node last saw it (version, replica pointers, who wrote
 *   which version) with a revision number that grows with every change the index publishes.
 *
 * An index copy travels as an ordinary `nput` of the reserved name `#index:<key>` (so its key is sha256 of that
 * name, as for any object) whose body is the JSON index record. Records read back from disk or from the wire are
 * validated here.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../../core/errors.ts';
import type { PeerId } from '../../core/ids.ts';

export const INDEX_COPY_PREFIX = '#index:';
export const HELD_PREFIX = 'held/';
export const INDEX_PREFIX = 'index/';
const MAX_INDEX_COPY_BYTES = 256 * 1024;

const key = z.string().regex(/^[0-9a-f]{64}$/);
const peer = z.string().regex(/^[0-9a-f]{40}$/);
const count = z.number().int().min(0).max(2 ** 31 - 1);
const name = z.string().min(1).max(255);

export const heldRecordSchema = z.object({ name, version: count, chunk: key, size: count }).strict();
export type HeldRecord = z.infer<typeof heldRecordSchema>;

export const indexRecordSchema = z.object({
  key, name, version: count, revision: count,
  replicas: z.array(z.tuple([peer, count])).max(64),
  history: z.array(z.object({ version: count, writer: peer }).strict()).max(64),
}).strict();
export type IndexRecord = z.infer<typeof indexRecordSchema> & { readonly replicas: [PeerId, number][] };

/** The reserved object name under which the index copy of `key` travels. */
export function indexCopyName(objectKey: string): string {
  return INDEX_COPY_PREFIX + objectKey;
}

export function isIndexCopyName(objectName: string): boolean {
  return objectName.startsWith(INDEX_COPY_PREFIX);
}

export function encodeIndexRecord(record: IndexRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record));
}

/** An index copy from a peer: E_NAMED_BAD_INDEX_COPY unless it is a valid record for the key its name says. */
export function decodeIndexCopy(objectName: string, body: Uint8Array): Decoded<IndexRecord> {
  if (!isIndexCopyName(objectName)) return reject('E_NAMED_BAD_INDEX_COPY', 'not an index copy name');
  if (body.byteLength > MAX_INDEX_COPY_BYTES) return reject('E_NAMED_BAD_INDEX_COPY', 'index copy too large');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return reject('E_NAMED_BAD_INDEX_COPY', 'index copy is not JSON');
  }
  const parsed = indexRecordSchema.safeParse(json);
  if (!parsed.success) return reject('E_NAMED_BAD_INDEX_COPY', parsed.error.issues[0]?.message ?? 'invalid index copy');
  if (parsed.data.key !== objectName.slice(INDEX_COPY_PREFIX.length)) return reject('E_NAMED_BAD_INDEX_COPY', 'index copy for another key');
  return accept(parsed.data as IndexRecord);
}

/** A stored record, or undefined (with the reason handed to `bad`) when it does not validate. */
export function parseRecord<T>(schema: z.ZodType<T>, value: unknown, bad: (reason: string) => void): T | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  bad(parsed.error.issues[0]?.message ?? 'invalid record');
  return undefined;
}
