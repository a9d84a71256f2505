/**
 * Wire format of T-Man (Jelasity, Montresor, Babaoglu, "T-Man: Gossip-based fast overlay topology
 * construction", Computer Networks 53(13), 2009), envelope `p: 'tman'`. Every message names the slice whose ring
 * it builds; a node of another slice ignores it.
 *
 *   { t: 'tman-push', slice, entries: [{ peer, age }, ...] }   the m descriptors best for the receiver
 *   { t: 'tman-pull', slice, entries: [{ peer, age }, ...] }   the answer, from the receiver's view before merging
 *
 * A descriptor's age counts the cycles since its peer last spoke for itself (age 0 = the sender itself), so
 * descriptors of dead peers grow old and are dropped.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';

export const TMAN_WIRE_VERSION = 1;
export const MAX_TMAN_ENTRIES = 64;
export const MAX_TMAN_AGE = 1_000_000;

export const TManErrors = {
  MALFORMED: 'E_TMAN_MALFORMED',
  TOO_MANY_ENTRIES: 'E_TMAN_TOO_MANY_ENTRIES',
  BAD_PEER_ID: 'E_BAD_PEER_ID',
  BAD_SLICE: 'E_TMAN_BAD_SLICE',
} as const;

const peerId = z.string().regex(/^[0-9a-f]{40}$/);
export const sliceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/);
const entry = z.object({ peer: peerId, age: z.number().int().min(0).max(MAX_TMAN_AGE) }).strict();
const body = { slice: sliceName, entries: z.array(entry).max(MAX_TMAN_ENTRIES) };

export const tmanMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('tman-push'), ...body }).strict(),
  z.object({ t: z.literal('tman-pull'), ...body }).strict(),
]);
export type TManMessage = z.infer<typeof tmanMessage>;
export type TManWireEntry = z.infer<typeof entry>;

export function decodeTManMessage(m: unknown): Decoded<TManMessage> {
  if (typeof m !== 'object' || m === null) return reject(TManErrors.MALFORMED, 'message is not an object');
  const raw = (m as { entries?: unknown }).entries;
  if (Array.isArray(raw) && raw.length > MAX_TMAN_ENTRIES) {
    return reject(TManErrors.TOO_MANY_ENTRIES, `${raw.length} entries, at most ${MAX_TMAN_ENTRIES}`);
  }
  const parsed = tmanMessage.safeParse(m);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.join('.') : '';
    const where = `${path || 'message'}: ${issue?.message ?? 'invalid'}`;
    if (/^entries\.\d+\.peer$/.test(path)) return reject(TManErrors.BAD_PEER_ID, where);
    if (path === 'slice') return reject(TManErrors.BAD_SLICE, where);
    return reject(TManErrors.MALFORMED, where);
  }
  const peers = parsed.data.entries.map((e) => e.peer);
  if (new Set(peers).size !== peers.length) return reject(TManErrors.MALFORMED, 'a peer appears twice');
  return accept(parsed.data);
}
