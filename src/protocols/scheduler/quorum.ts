/**
 * Quorum verification of redundant results, after BOINC's validator (Anderson, "BOINC: A System for
 * Public-Resource Computing and Storage", GRID 2004): each task runs on n distinct hosts; it is accepted when
 * k of the result digests agree (k > n/2); hosts whose digests differ from the accepted one are suspects.
 * While no digest has k votes, enough replicas are kept in flight for the leader to reach k if the next
 * results agree with it, and never fewer than n in all; once the vote cap makes k unreachable, the task fails.
 * Copies still running when a task is accepted are left to finish and checked against it (submitter.ts).
 *
 * The tally is hash-agnostic: a digest is whatever string the runtime computed over the result.
 */
import type { PeerId } from '../../core/ids.ts';

export interface Vote {
  readonly host: PeerId;
  readonly digest: string;
}

export interface QuorumRule {
  readonly n: number;
  readonly k: number;
  /** Most votes a task may collect (replicas issued beyond n when hosts disagree stop here). */
  readonly maxVotes: number;
}

export type Verdict =
  | { readonly kind: 'accepted'; readonly digest: string; readonly agreeing: PeerId[]; readonly suspects: PeerId[] }
  | { readonly kind: 'waiting'; readonly replicasWanted: number }
  | { readonly kind: 'impossible'; readonly suspects: PeerId[] };

/** Default vote cap: n plus as many again, at least one spare. */
export function defaultMaxVotes(n: number): number {
  return Math.max(n + 1, 2 * n);
}

/**
 * The state of a task's vote. `replicasWanted` is how many more copies should be leased now, given
 * `inFlight` copies already out.
 */
export function tally(votes: readonly Vote[], inFlight: number, rule: QuorumRule): Verdict {
  const counts = new Map<string, number>();
  let leader = '';
  let best = 0;
  for (const v of votes) {
    const c = (counts.get(v.digest) ?? 0) + 1;
    counts.set(v.digest, c);
    if (c > best) {
      best = c;
      leader = v.digest;
    }
  }
  if (best >= rule.k) {
    return {
      kind: 'accepted',
      digest: leader,
      agreeing: votes.filter((v) => v.digest === leader).map((v) => v.host),
      suspects: votes.filter((v) => v.digest !== leader).map((v) => v.host),
    };
  }
  const missing = rule.k - best;
  const room = rule.maxVotes - votes.length;
  if (room < missing) {
    // No digest can reach k: every host that voted is under suspicion, none can be singled out.
    return { kind: 'impossible', suspects: votes.map((v) => v.host) };
  }
  const target = Math.min(room, Math.max(rule.n - votes.length, missing));
  return { kind: 'waiting', replicasWanted: Math.max(0, target - inFlight) };
}
