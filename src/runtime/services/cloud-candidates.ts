/**
 * Which peers a slice request may claim, best first (P2PCS: "the n nodes with the fastest processor"): the free
 * peers known to the directory (plus this node) that meet the query's requirements, ordered by the ranked
 * attribute, highest first, ties by higher peer id as in slicer.ts ('fraction' queries: by peer id). And how many
 * a request needs: `n` when given, the query's count for 'top-count', else the fraction of the eligible peers of
 * the whole cloud (known eligible share × estimated size).
 */
import type { PeerId } from '../../core/ids.ts';
import { attributeValue, type NodeAttributes } from '../../protocols/attributes.ts';
import { compareByAttribute } from '../../protocols/slicing/slicer.ts';
import { meetsRequirements, resolveSliceQuery, type SliceQuery } from '../../protocols/slicing/slice-query.ts';

export interface KnownPeer {
  readonly peer: PeerId;
  readonly attrs: NodeAttributes;
  /** The slice it is held by, null when free. */
  readonly slice: string | null;
}

export interface CandidateChoice {
  /** Free eligible peers, best first. */
  readonly free: PeerId[];
  /** Eligible peers known, free or not. */
  readonly eligible: number;
  /** Peers needed. */
  readonly need: number;
}

export function chooseCandidates(query: SliceQuery, known: readonly KnownPeer[], n: number | undefined, estimatedSize: number | null): CandidateChoice {
  const eligible = known.filter((k) => meetsRequirements(k.attrs, query.requirements));
  const attr = query.kind === 'fraction' ? null : query.attribute;
  const free = eligible
    .filter((k) => k.slice === null)
    .sort((a, b) => (attr === null ? (a.peer < b.peer ? -1 : 1) : -compareByAttribute(attributeValue(a.attrs, attr), a.peer, attributeValue(b.attrs, attr), b.peer)))
    .map((k) => k.peer);
  let need = n ?? 0;
  if (n === undefined) {
    const share = known.length === 0 ? 0 : eligible.length / known.length;
    const cloudEligible = Math.round(share * Math.max(known.length, estimatedSize ?? 0));
    const plan = resolveSliceQuery(query, Math.max(cloudEligible, eligible.length));
    need = plan.ok ? plan.value.count : query.kind === 'top-count' ? query.n : Math.max(1, Math.ceil(query.p * eligible.length));
  }
  return { free, eligible: eligible.length, need };
}
