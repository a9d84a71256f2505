/**
 * Wire format of the cloud service's own protocol (envelope p: 'cloud'), after P2PCS's slice allocation and
 * membership. Validated once at the boundary into a typed value or a named rejection.
 *
 *   { t: 'dir-push' | 'dir-pull', entries }      attribute directory gossip: [{ peer, attrs, slice, age }]
 *   { t: 'claim', id, slice }                    may I have you for `slice`? (a lease, first come)
 *   { t: 'claim-ok', id, slice }                 granted
 *   { t: 'claim-no', id, slice, held }           refused: I am held by slice `held`
 *   { t: 'commit', record }                      the claim succeeded: you are a member of `record`
 *   { t: 'release', slice }                      you are released from `slice` (allocation failed, terminate, release)
 *   { t: 'sync', record }                        slice membership gossip between members (and the owner)
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../../core/errors.ts';
import { nodeAttributesSchema } from '../../protocols/attributes.ts';
import { sliceQuerySchema } from '../../protocols/slicing/slice-query.ts';

export const CLOUD_PROTOCOL = 'cloud';
export const CLOUD_WIRE_VERSION = 1;
export const MAX_DIRECTORY_ENTRIES = 32;
export const MAX_SLICE_MEMBERS = 256;

export const CloudWireErrors = {
  MALFORMED: 'E_CLOUD_MALFORMED',
  TOO_MANY_ENTRIES: 'E_CLOUD_TOO_MANY_ENTRIES',
} as const;

const peer = z.string().regex(/^[0-9a-f]{40}$/);
export const sliceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/, 'a slice name is 1-48 letters, digits, _ . -');
const age = z.number().int().min(0).max(1000);

const directoryEntry = z.strictObject({ peer, attrs: nodeAttributesSchema, slice: sliceName.nullable(), age });
export type DirectoryWireEntry = z.infer<typeof directoryEntry>;

const sliceRecord = z.strictObject({
  name: sliceName,
  owner: peer,
  query: sliceQuerySchema,
  /** [peer, age in cycles since that member last spoke for itself] */
  members: z.array(z.tuple([peer, age])).max(MAX_SLICE_MEMBERS),
  /** Members that left (terminated, released): not to be re-added from stale copies. */
  removed: z.array(peer).max(MAX_SLICE_MEMBERS),
});
export type SliceRecordWire = z.infer<typeof sliceRecord>;

const claimId = z.number().int().min(0).max(2 ** 31);

export const cloudMessage = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('dir-push'), entries: z.array(directoryEntry).max(MAX_DIRECTORY_ENTRIES) }),
  z.strictObject({ t: z.literal('dir-pull'), entries: z.array(directoryEntry).max(MAX_DIRECTORY_ENTRIES) }),
  z.strictObject({ t: z.literal('claim'), id: claimId, slice: sliceName }),
  z.strictObject({ t: z.literal('claim-ok'), id: claimId, slice: sliceName }),
  z.strictObject({ t: z.literal('claim-no'), id: claimId, slice: sliceName, held: sliceName }),
  z.strictObject({ t: z.literal('commit'), record: sliceRecord }),
  z.strictObject({ t: z.literal('release'), slice: sliceName }),
  z.strictObject({ t: z.literal('sync'), record: sliceRecord }),
]);
export type CloudMessage = z.infer<typeof cloudMessage>;

export function decodeCloudMessage(m: unknown): Decoded<CloudMessage> {
  if (typeof m !== 'object' || m === null) return reject(CloudWireErrors.MALFORMED, 'message is not an object');
  const entries = (m as { entries?: unknown }).entries;
  if (Array.isArray(entries) && entries.length > MAX_DIRECTORY_ENTRIES) {
    return reject(CloudWireErrors.TOO_MANY_ENTRIES, `${entries.length} entries, at most ${MAX_DIRECTORY_ENTRIES}`);
  }
  const parsed = cloudMessage.safeParse(m);
  if (parsed.success) return accept(parsed.data);
  const issue = parsed.error.issues[0];
  const code = issue?.code === 'too_big' ? CloudWireErrors.TOO_MANY_ENTRIES : CloudWireErrors.MALFORMED;
  return reject(code, `${issue?.path.map(String).join('.') || 'message'}: ${issue?.message ?? 'invalid'}`);
}
