/**
 * Wire format of the two slicing protocols (ordered slicing, Jelasity & Kermarrec, P2P 2006; Sliver, Gramoli,
 * Vigfusson, Birman, Kermarrec, van Renesse). Every message names the attribute it ranks by, so instances
 * ranking by different attributes never mix.
 *
 *   envelope p: 'ordered-slicing'
 *     { t: 'swap-offer',  attr, value, rand }   my attribute value and my random value
 *     { t: 'swap-accept', attr, rand, took }    misplaced: here is my random value, I took yours (`took`)
 *   envelope p: 'sliver' (version SLIVER_WIRE_VERSION)
 *     { t: 'sliver-push', ranks: [{ attr, value, heard }, …] }  per attribute: my value, and [peer, value] pairs
 *                                                               I heard directly
 *     { t: 'sliver-pull', ranks: [{ attr, value, heard }, …] }  the answer, the same from the other side
 *
 * Sliver v2 carries one section per ranked attribute (1 to MAX_SLIVER_ATTRIBUTES), so a node ranking by several
 * attributes exchanges one message instead of one per attribute; v1 carried a single { attr, value, heard }.
 *
 * Decoded once at the boundary into a typed value or a named rejection.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';

/** Ordered slicing's wire version. */
export const SLICING_WIRE_VERSION = 1;
/** Sliver's wire version (2: sections per attribute). */
export const SLIVER_WIRE_VERSION = 2;

export const SlicingErrors = {
  MALFORMED: 'E_SLICING_MALFORMED',
  BAD_VALUE: 'E_SLICING_BAD_VALUE',
  BAD_ATTRIBUTE: 'E_SLICING_BAD_ATTRIBUTE',
  BAD_PEER_ID: 'E_BAD_PEER_ID',
  TOO_MANY_ENTRIES: 'E_SLICING_TOO_MANY_ENTRIES',
  TOO_MANY_ATTRIBUTES: 'E_SLICING_TOO_MANY_ATTRIBUTES',
} as const;

const attr = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,31}$/);
const value = z.number().min(-1e15).max(1e15);
/** Ordered slicing's random values are uniform in [0, 1). */
const rand = z.number().min(0).lt(1);

export const orderedSlicingMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('swap-offer'), attr, value, rand }).strict(),
  z.object({ t: z.literal('swap-accept'), attr, rand, took: rand }).strict(),
]);
export type OrderedSlicingMessage = z.infer<typeof orderedSlicingMessage>;

/** Most relayed [peer, value] pairs in one section of a Sliver message. */
export const MAX_SLIVER_HEARD = 32;
/** Most attributes (sections) in one Sliver message. */
export const MAX_SLIVER_ATTRIBUTES = 8;
const heard = z.array(z.tuple([z.string().regex(/^[0-9a-f]{40}$/), value])).max(MAX_SLIVER_HEARD);
const section = z.object({ attr, value, heard }).strict();
const ranks = z.array(section).min(1).max(MAX_SLIVER_ATTRIBUTES);

export const sliverMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('sliver-push'), ranks }).strict(),
  z.object({ t: z.literal('sliver-pull'), ranks }).strict(),
]);
export type SliverMessage = z.infer<typeof sliverMessage>;
export type SliverSection = z.infer<typeof section>;

/** Refuses oversized lists before zod walks them. */
function tooLarge(m: object): Decoded<never> | null {
  const tooMany = (list: unknown): boolean => Array.isArray(list) && list.length > MAX_SLIVER_HEARD;
  const raw = m as { heard?: unknown; ranks?: unknown };
  if (Array.isArray(raw.ranks) && raw.ranks.length > MAX_SLIVER_ATTRIBUTES) {
    return reject(SlicingErrors.TOO_MANY_ATTRIBUTES, `${raw.ranks.length} attributes, at most ${MAX_SLIVER_ATTRIBUTES}`);
  }
  const lists = [raw.heard, ...(Array.isArray(raw.ranks) ? raw.ranks.map((s: unknown) => (typeof s === 'object' && s !== null ? (s as { heard?: unknown }).heard : undefined)) : [])];
  const big = lists.find(tooMany) as unknown[] | undefined;
  return big ? reject(SlicingErrors.TOO_MANY_ENTRIES, `${big.length} pairs, at most ${MAX_SLIVER_HEARD}`) : null;
}

function decodeWith<T>(schema: z.ZodType<T>, m: unknown): Decoded<T> {
  if (typeof m !== 'object' || m === null) return reject(SlicingErrors.MALFORMED, 'message is not an object');
  const refused = tooLarge(m);
  if (refused) return refused;
  const parsed = schema.safeParse(m);
  if (parsed.success) return accept(parsed.data);
  const issue = parsed.error.issues[0];
  // Within a Sliver section the same names apply as at the top level.
  const path = issue ? issue.path.join('.').replace(/^ranks\.\d+\./, '') : '';
  const where = `${issue ? issue.path.join('.') || 'message' : 'message'}: ${issue?.message ?? 'invalid'}`;
  if (path === 'attr') return reject(SlicingErrors.BAD_ATTRIBUTE, where);
  if (path === 'value' || path === 'rand' || path === 'took' || /^heard\.\d+\.1$/.test(path)) return reject(SlicingErrors.BAD_VALUE, where);
  if (/^heard\.\d+\.0$/.test(path)) return reject(SlicingErrors.BAD_PEER_ID, where);
  return reject(SlicingErrors.MALFORMED, where);
}

export function decodeOrderedSlicingMessage(m: unknown): Decoded<OrderedSlicingMessage> {
  return decodeWith(orderedSlicingMessage, m);
}

export function decodeSliverMessage(m: unknown): Decoded<SliverMessage> {
  return decodeWith(sliverMessage, m);
}
