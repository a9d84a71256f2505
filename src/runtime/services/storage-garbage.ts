/**
 * Returning space after the ring moved: a chunk this node holds but that is no longer in its replica set (the
 * owner of its ring key and the owner's r - 1 successors, Chord successor replication, Stoica et al. 2003 §5.2)
 * is a stray copy. It may be deleted only once r other peers — the whole replica set — are seen to hold it, and
 * only after a grace period during which that stays true on every check, so a copy is never dropped while a
 * re-replication that needs it may still be under way, nor on the strength of one glimpse of a settling ring.
 *
 * Pure bookkeeping: the caller checks the holders and passes the time in; this decides keep or delete.
 */
export interface StrayCheck {
  /** This node is among the chunk's replica holders. */
  readonly holder: boolean;
  /** How many of the replica holders other than this node confirmed they hold the chunk. */
  readonly confirmedElsewhere: number;
}

export class StrayCopies {
  /** When each stray chunk was first seen fully replicated elsewhere (ms, the caller's clock). */
  private readonly since = new Map<string, number>();

  constructor(private readonly replicas: number, private readonly graceMs: number) {}

  /** Records one check of a chunk; 'delete' once it has been a confirmed stray for the whole grace period. */
  observe(chunk: string, check: StrayCheck, now: number): 'keep' | 'delete' {
    if (check.holder || check.confirmedElsewhere < this.replicas) {
      this.since.delete(chunk);
      return 'keep';
    }
    const first = this.since.get(chunk);
    if (first === undefined) {
      this.since.set(chunk, now);
      return 'keep';
    }
    if (now - first < this.graceMs) return 'keep';
    this.since.delete(chunk);
    return 'delete';
  }

  /** Chunks waiting out their grace period. */
  get pending(): number {
    return this.since.size;
  }

  /** Forgets chunks no longer held (deleted elsewhere, or by hand). */
  retain(held: ReadonlySet<string>): void {
    for (const chunk of this.since.keys()) if (!held.has(chunk)) this.since.delete(chunk);
  }
}
