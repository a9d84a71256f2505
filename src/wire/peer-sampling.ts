/**
 * Wire format of the Cyclon peer-sampling protocol (Voulgaris, Gavidia, van Steen 2005), envelope `p: 'cyclon'`.
 *
 *   { t: 'shuffle',       entries: [{ peer, age }, ...] }   the initiator's self entry (age 0) + random others
 *   { t: 'shuffle-reply', entries: [{ peer, age }, ...] }   a random subset of the receiver's view
 *
 * Decoded once at the boundary; every failure is a named rejection, never a throw.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';

export const PEER_SAMPLING_WIRE_VERSION = 1;
/** No sane shuffle carries more entries than a view holds; this bounds what a peer can make us parse. */
export const MAX_SHUFFLE_ENTRIES = 64;
/** Ages count gossip cycles; anything larger is garbage. */
export const MAX_AGE = 1_000_000;

export const PeerSamplingErrors = {
  MALFORMED: 'E_CYCLON_MALFORMED',
  TOO_MANY_ENTRIES: 'E_CYCLON_TOO_MANY_ENTRIES',
  BAD_PEER_ID: 'E_BAD_PEER_ID',
  BAD_AGE: 'E_CYCLON_BAD_AGE',
} as const;

const peerId = z.string().regex(/^[0-9a-f]{40}$/);
const viewEntry = z.object({ peer: peerId, age: z.number().int().min(0).max(MAX_AGE) }).strict();
const entries = z.array(viewEntry).max(MAX_SHUFFLE_ENTRIES);

export const cyclonMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('shuffle'), entries }).strict(),
  z.object({ t: z.literal('shuffle-reply'), entries }).strict(),
]);
export type CyclonMessage = z.infer<typeof cyclonMessage>;
export type CyclonWireEntry = z.infer<typeof viewEntry>;

export function decodeCyclonMessage(m: unknown): Decoded<CyclonMessage> {
  if (typeof m !== 'object' || m === null) return reject(PeerSamplingErrors.MALFORMED, 'message is not an object');
  const raw = (m as { entries?: unknown }).entries;
  // Check the length before zod walks the array, so an oversized message costs nothing to refuse.
  if (Array.isArray(raw) && raw.length > MAX_SHUFFLE_ENTRIES) {
    return reject(PeerSamplingErrors.TOO_MANY_ENTRIES, `${raw.length} entries, at most ${MAX_SHUFFLE_ENTRIES}`);
  }
  const parsed = cyclonMessage.safeParse(m);
  if (parsed.success) return accept(parsed.data);
  const issue = parsed.error.issues[0];
  const path = issue ? issue.path.join('.') : '';
  const where = `${path || 'message'}: ${issue?.message ?? 'invalid'}`;
  if (/^entries\.\d+\.peer$/.test(path)) return reject(PeerSamplingErrors.BAD_PEER_ID, where);
  if (/^entries\.\d+\.age$/.test(path)) return reject(PeerSamplingErrors.BAD_AGE, where);
  return reject(PeerSamplingErrors.MALFORMED, where);
}
