/**
 * The cloud service's commands from tabs (P2PCS instance API: run, add, terminate, describe instances; release
 * a slice; set the site label): zod schemas for their untrusted arguments, the named error codes they fail
 * with, and the parser that turns the first problem into a NepheleError.
 */
import { z } from 'zod';
import { NepheleError } from '../../core/errors.ts';
import { decodeSliceQuery, type SliceQuery } from '../../protocols/slicing/slice-query.ts';
import { MAX_SLICE_MEMBERS, sliceName } from './cloud-messages.ts';

export const CloudErrors = {
  BAD_ARGS: 'E_BAD_ARGS',
  UNKNOWN_COMMAND: 'E_UNKNOWN_COMMAND',
  UNKNOWN_SLICE: 'E_UNKNOWN_SLICE',
  SLICE_EXISTS: 'E_SLICE_EXISTS',
  NOT_MEMBER: 'E_NOT_MEMBER',
  /** Fewer free matching peers are known than asked for. */
  IMPOSSIBLE: 'E_IMPOSSIBLE',
  /** Enough candidates were known, but too many refused (held by other slices) or did not answer. */
  CLAIMS_FAILED: 'E_CLAIMS_FAILED',
} as const;

const peer = z.string().regex(/^[0-9a-f]{40}$/, 'a peer id is 40 lowercase hex characters');
const count = z.number().int().min(1).max(MAX_SLICE_MEMBERS);

export const runArgs = z.strictObject({ slice: sliceName, query: z.unknown(), n: count.optional() });
export const addArgs = z.strictObject({ slice: sliceName, n: count });
export const terminateArgs = z.strictObject({ slice: sliceName, peers: z.array(peer).min(1).max(MAX_SLICE_MEMBERS) });
export const sliceArgs = z.strictObject({ slice: sliceName });
export const siteArgs = z.strictObject({ site: z.string().max(64) });
/** `membership`: this node's slice ({}), or the members of the named slice as known here ({ slice }). */
export const membershipArgs = z.strictObject({ slice: sliceName.optional() });

export function parseArgs<T>(schema: z.ZodType<T>, command: string, args: unknown): T {
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new NepheleError(CloudErrors.BAD_ARGS, `${command}: ${issue?.path.map(String).join('.') || 'args'}: ${issue?.message ?? 'invalid'}`);
}

/** A slice query or the query's own named error (E_BAD_QUERY, E_UNKNOWN_ATTRIBUTE). */
export function parseQuery(raw: unknown): SliceQuery {
  const decoded = decodeSliceQuery(raw);
  if (!decoded.ok) throw new NepheleError(decoded.code, decoded.reason);
  return decoded.value;
}
