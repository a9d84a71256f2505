/**
 * Slice queries (P2PCS: "a user can request a fraction of the available resources matching a given query, e.g.
 * the 200 nodes with fastest processor; the system checks whether the query can be satisfied"). Pure model:
 *
 *   { kind: 'fraction',     p }                 any fraction p of the eligible peers (0 < p <= 1)
 *   { kind: 'top-fraction', p, attribute }      the top p (a fraction: 0.1 = top 10%) by attribute
 *   { kind: 'top-count',    n, attribute }      the n eligible peers with the most of attribute
 *
 * each with optional requirements (at least so many cores, MB of RAM, GPU memory, disk). A query is validated
 * once (`decodeSliceQuery`), then resolved against the number of eligible peers into a plan: how many peers and
 * the rank from which an eligible node belongs (ranks as in slicer.ts, among eligible nodes, by the attribute).
 */
import { z } from 'zod';
import type { PeerId } from '../../core/ids.ts';
import { accept, reject, type Decoded } from '../../core/errors.ts';
import { attributeValue, isRankableAttribute, RANKABLE_ATTRIBUTES, type NodeAttributes, type RankableAttribute } from '../attributes.ts';
import { compareByAttribute } from './slicer.ts';

export const SliceQueryErrors = {
  BAD_QUERY: 'E_BAD_QUERY',
  UNKNOWN_ATTRIBUTE: 'E_UNKNOWN_ATTRIBUTE',
  IMPOSSIBLE: 'E_IMPOSSIBLE',
} as const;

export const MAX_SLICE_COUNT = 1_000_000;

const requirementsSchema = z
  .object({
    minCores: z.number().int().min(0).max(4096).optional(),
    minMemoryMB: z.number().min(0).max(1e9).optional(),
    minGpuMemoryMB: z.number().min(0).max(1e9).optional(),
    minStorageMB: z.number().min(0).max(1e9).optional(),
  })
  .strict();
export type Requirements = z.infer<typeof requirementsSchema>;

const attribute = z.enum(RANKABLE_ATTRIBUTES);
const fraction = z.number().gt(0).max(1);

export const sliceQuerySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fraction'), p: fraction, requirements: requirementsSchema.optional() }).strict(),
  z.object({ kind: z.literal('top-fraction'), p: fraction, attribute, requirements: requirementsSchema.optional() }).strict(),
  z.object({ kind: z.literal('top-count'), n: z.number().int().min(1).max(MAX_SLICE_COUNT), attribute, requirements: requirementsSchema.optional() }).strict(),
]);
export type SliceQuery = z.infer<typeof sliceQuerySchema>;

export function decodeSliceQuery(raw: unknown): Decoded<SliceQuery> {
  if (typeof raw !== 'object' || raw === null) return reject(SliceQueryErrors.BAD_QUERY, 'query is not an object');
  const named = (raw as { attribute?: unknown }).attribute;
  if (named !== undefined && (typeof named !== 'string' || !isRankableAttribute(named))) {
    return reject(SliceQueryErrors.UNKNOWN_ATTRIBUTE, `unknown attribute ${JSON.stringify(named)}; known: ${RANKABLE_ATTRIBUTES.join(', ')}`);
  }
  const parsed = sliceQuerySchema.safeParse(raw);
  if (parsed.success) return accept(parsed.data);
  const issue = parsed.error.issues[0];
  return reject(SliceQueryErrors.BAD_QUERY, `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`);
}

/** Whether a node's attributes satisfy the requirements (a missing GPU fails any GPU requirement). */
export function meetsRequirements(attrs: NodeAttributes, req: Requirements | undefined): boolean {
  if (!req) return true;
  if (req.minCores !== undefined && attrs.cores < req.minCores) return false;
  if (req.minMemoryMB !== undefined && attrs.memoryMB < req.minMemoryMB) return false;
  if (req.minGpuMemoryMB !== undefined && (attrs.gpuMemoryMB === null || attrs.gpuMemoryMB < req.minGpuMemoryMB)) return false;
  if (req.minStorageMB !== undefined && attrs.storageMB < req.minStorageMB) return false;
  return true;
}

export interface SlicePlan {
  /** Peers the slice will hold. */
  readonly count: number;
  /** Attribute ranked by; null for 'fraction' (any order will do). */
  readonly attribute: RankableAttribute | null;
  /** An eligible node whose rank among eligible nodes is >= rankFrom belongs to the slice. */
  readonly rankFrom: number;
}

/** Resolves a query against the number of eligible peers (exact or estimated); E_IMPOSSIBLE when it cannot fit. */
export function resolveSliceQuery(query: SliceQuery, eligible: number): Decoded<SlicePlan> {
  const m = Math.max(0, Math.floor(eligible));
  const count = query.kind === 'top-count' ? query.n : Math.ceil(query.p * m - 1e-9);
  const needed = Math.max(1, count);
  if (needed > m) return reject(SliceQueryErrors.IMPOSSIBLE, `needs ${needed} peers, only ${m} exist`);
  return accept({ count: needed, attribute: query.kind === 'fraction' ? null : query.attribute, rankFrom: 1 - needed / m });
}

export interface Candidate {
  readonly peer: PeerId;
  readonly attrs: NodeAttributes;
}

/**
 * Exact answer over a known list of peers (a small network, or a check of what gossip converges to): the eligible
 * peers with the most of the attribute (ties by higher peer id, matching slicer.ts's order), or for 'fraction'
 * the first by peer id.
 */
export function selectPeers(query: SliceQuery, candidates: readonly Candidate[]): Decoded<PeerId[]> {
  const eligible = candidates.filter((c) => meetsRequirements(c.attrs, query.requirements));
  const plan = resolveSliceQuery(query, eligible.length);
  if (!plan.ok) return plan;
  const attr = plan.value.attribute;
  const ordered = eligible.slice().sort((a, b) =>
    attr === null ? (a.peer < b.peer ? -1 : 1) : -compareByAttribute(attributeValue(a.attrs, attr), a.peer, attributeValue(b.attrs, attr), b.peer),
  );
  return accept(ordered.slice(0, plan.value.count).map((c) => c.peer));
}
