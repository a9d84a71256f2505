/**
 * Wire format of the Chord DHT (Stoica et al., IEEE/ACM ToN 2003), envelope `p: 'chord'`. Lookups are routed
 * recursively (see src/protocols/chord/chord.ts); the answer goes straight back to the origin.
 *
 *   { t: 'find',     id, key, origin, hops }     route towards the successor of `key` for `origin`'s request `id`
 *   { t: 'found',    id, key, owner, hops }      the answer, sent by the last hop to the origin
 *   { t: 'get-pred' }                            stabilize: "who is your predecessor, and your successors?"
 *   { t: 'pred',     pred, succs }               the answer (pred null when unknown)
 *   { t: 'notify' }                              "I might be your predecessor" (the sender is the candidate)
 *   { t: 'ping' } / { t: 'pong' }                check_predecessor
 *
 * Keys and ids are 40 lowercase hex (160 bits). Decoded once at the boundary into a typed value or a named
 * rejection, never a throw.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';

export const CHORD_WIRE_VERSION = 1;
/** A successor list is r = 8 long by default; more than this is garbage. */
export const MAX_SUCCESSORS = 32;
/** A lookup never needs more hops than this on a 160-bit ring (a route that long is looping). */
export const MAX_HOPS = 255;
export const MAX_REQUEST_ID = 2 ** 31 - 1;

export const ChordErrors = {
  MALFORMED: 'E_CHORD_MALFORMED',
  BAD_PEER_ID: 'E_BAD_PEER_ID',
  BAD_KEY: 'E_CHORD_BAD_KEY',
  TOO_MANY_SUCCESSORS: 'E_CHORD_TOO_MANY_SUCCESSORS',
  TOO_MANY_HOPS: 'E_CHORD_TOO_MANY_HOPS',
} as const;

const ringId = z.string().regex(/^[0-9a-f]{40}$/);
const requestId = z.number().int().min(0).max(MAX_REQUEST_ID);
const hops = z.number().int().min(0).max(MAX_HOPS);

export const chordMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('find'), id: requestId, key: ringId, origin: ringId, hops }).strict(),
  z.object({ t: z.literal('found'), id: requestId, key: ringId, owner: ringId, hops }).strict(),
  z.object({ t: z.literal('get-pred') }).strict(),
  z.object({ t: z.literal('pred'), pred: ringId.nullable(), succs: z.array(ringId).max(MAX_SUCCESSORS) }).strict(),
  z.object({ t: z.literal('notify') }).strict(),
  z.object({ t: z.literal('ping') }).strict(),
  z.object({ t: z.literal('pong') }).strict(),
]);
export type ChordMessage = z.infer<typeof chordMessage>;

export function decodeChordMessage(m: unknown): Decoded<ChordMessage> {
  if (typeof m !== 'object' || m === null) return reject(ChordErrors.MALFORMED, 'message is not an object');
  const raw = m as { succs?: unknown; hops?: unknown };
  // Refuse oversized lists before zod walks them.
  if (Array.isArray(raw.succs) && raw.succs.length > MAX_SUCCESSORS) {
    return reject(ChordErrors.TOO_MANY_SUCCESSORS, `${raw.succs.length} successors, at most ${MAX_SUCCESSORS}`);
  }
  if (typeof raw.hops === 'number' && raw.hops > MAX_HOPS) {
    return reject(ChordErrors.TOO_MANY_HOPS, `${raw.hops} hops, at most ${MAX_HOPS}`);
  }
  const parsed = chordMessage.safeParse(m);
  if (parsed.success) return accept(parsed.data);
  const issue = parsed.error.issues[0];
  const path = issue ? issue.path.join('.') : '';
  const where = `${path || 'message'}: ${issue?.message ?? 'invalid'}`;
  if (path === 'key') return reject(ChordErrors.BAD_KEY, where);
  if (/^(origin|owner|pred|succs\.\d+)$/.test(path)) return reject(ChordErrors.BAD_PEER_ID, where);
  return reject(ChordErrors.MALFORMED, where);
}
