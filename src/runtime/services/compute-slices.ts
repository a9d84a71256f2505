/**
 * Jobs on an allocated slice (issue #5, "optionally runs on an allocated slice"; P2PCS runs applications on a
 * slice): what the compute service learns from the cloud service of its node, through `ServiceDeps.command`.
 *
 *  - as a host: this node's slice (cloud `membership`); hosts advertise it in their pulls and subscribe only to
 *    jobs of their own slice;
 *  - as a submitter: a job naming a slice is admitted only if the cloud knows members of that slice here (cloud
 *    `membership {slice}`: the slice record on its owner and members, else the gossiped directory; it fails with
 *    E_UNKNOWN_SLICE otherwise), and the members of the slices of running jobs are kept fresh so the scheduler
 *    leases only to members and re-runs copies held by a host that left. A slice that stays unknown or empty
 *    (released, or every member left) for SLICE_GONE_AFTER_MS is gone: its running jobs fail with E_SLICE_GONE
 *    instead of waiting for hosts forever (SliceLiveness).
 *
 * The cloud is asked on every tick (a host removed from a slice must stop its copies before it finishes them; a
 * 1 s cadence let it finish second-long tasks); one question per kind is in flight at a time, and the last
 * answer stands.
 */
import type { PeerId } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';
import type { ServiceDeps } from '../node-service.ts';
import type { ComputeJobView } from './compute-types.ts';
import { jobSliceName, type JobSpec } from '../../protocols/scheduler/job-model.ts';

export const ComputeSliceErrors = {
  /** The cloud service does not know the slice here (the cloud's own code). */
  UNKNOWN_SLICE: 'E_UNKNOWN_SLICE',
  /** A running job's slice was released or lost every member: its unfinished tasks fail with this code. */
  SLICE_GONE: 'E_SLICE_GONE',
} as const;

/**
 * How long a running job's slice must look unknown or empty, over at least two answers, before it is gone: a
 * directory answer can miss members for a moment (an entry aged out, gossip not yet in); a released slice stays
 * gone.
 */
export const SLICE_GONE_AFTER_MS = 3_000;

export interface SliceWatchHooks {
  /** This node's membership changed (null: it belongs to no slice). */
  readonly hostSlice: (slice: string | null) => void;
  /** The members of a slice that running jobs use are (newly) known. */
  readonly members: (slice: string, members: readonly PeerId[]) => void;
  /** Slices of the running jobs submitted here. */
  readonly activeSlices: () => readonly string[];
  /** The slice is gone: fail the running jobs on it with `error` (E_SLICE_GONE and a message naming it). */
  readonly gone?: (slice: string, error: string) => void;
}

interface Membership {
  readonly slice: string;
  /** Null when the members come from the gossiped directory rather than the slice record. */
  readonly owner: PeerId | null;
  readonly members: readonly PeerId[];
}

/** The error a job's tasks fail with when its slice is gone. */
export function sliceGoneError(slice: string): string {
  return `${ComputeSliceErrors.SLICE_GONE}: slice ${slice} was released or has no members left`;
}

/**
 * Decides from successive answers about the slices of running jobs which are gone. Pure: time comes from the
 * caller. A slice is gone once every answer for SLICE_GONE_AFTER_MS (at least two) found it unknown or empty;
 * any answer with a member starts over.
 */
export class SliceLiveness {
  private readonly emptySince = new Map<string, { readonly at: number; answers: number }>();

  /** Records an answer (`members`: how many the cloud named, 0 when it does not know the slice); true once gone. */
  observe(slice: string, members: number, now: number): boolean {
    if (members > 0) {
      this.emptySince.delete(slice);
      return false;
    }
    const empty = this.emptySince.get(slice);
    if (!empty) {
      this.emptySince.set(slice, { at: now, answers: 1 });
      return false;
    }
    empty.answers++;
    return empty.answers >= 2 && now - empty.at >= SLICE_GONE_AFTER_MS;
  }

  /** Keeps only the slices still in use (a slice whose jobs ended starts afresh if it is used again). */
  retain(slices: readonly string[]): void {
    for (const slice of [...this.emptySince.keys()]) if (!slices.includes(slice)) this.emptySince.delete(slice);
  }

  forget(slice: string): void {
    this.emptySince.delete(slice);
  }
}

export class SliceWatch {
  private mine: string | null = null;
  private askingMembership = false;
  private readonly asking = new Set<string>();
  /** The member list last handed to the scheduler, per slice. */
  private readonly known = new Map<string, ReadonlySet<PeerId>>();
  private readonly liveness = new SliceLiveness();

  constructor(private readonly deps: Pick<ServiceDeps, 'command' | 'log' | 'now'>, private readonly hooks: SliceWatchHooks) {}

  /** The slice this node is a member of, as last learnt. */
  get hostSlice(): string | null {
    return this.mine;
  }

  tick(): void {
    if (!this.askingMembership) {
      this.askingMembership = true;
      void this.deps.command('cloud', 'membership', {}).then(
        (answer) => this.learnMembership(answer as Membership | null),
        () => this.learnMembership(null), // no cloud service: no slice
      ).finally(() => { this.askingMembership = false; });
    }
    const active = this.hooks.activeSlices();
    this.liveness.retain(active);
    for (const slice of active) {
      if (this.asking.has(slice)) continue;
      this.asking.add(slice);
      void this.describe(slice).then(
        (answer) => {
          this.learnMembers(slice, answer.members, answer.owner !== null);
          this.checkLive(slice, answer.members.length);
        },
        // A slice released or forgotten since: nobody is a member any more.
        (err: unknown) => {
          if (!(err instanceof NepheleError && err.code === ComputeSliceErrors.UNKNOWN_SLICE)) return;
          this.learnMembers(slice, [], true);
          this.checkLive(slice, 0);
        },
      ).finally(() => this.asking.delete(slice));
    }
  }

  /**
   * Checks a submitted spec's slice before it is published: the cloud must know it here. Its members are handed
   * to the scheduler at once, so the first pulls are already checked against them. No slice or a bad name: left
   * to the job model's validation (E_BAD_JOB).
   */
  async admit(spec: Record<string, unknown>): Promise<void> {
    const slice = jobSliceName.safeParse(spec['slice']);
    if (!slice.success) return;
    const answer = await this.describe(slice.data);
    this.learnMembers(slice.data, answer.members, answer.owner !== null);
  }

  private async describe(slice: string): Promise<Membership> {
    try {
      return (await this.deps.command('cloud', 'membership', { slice })) as Membership;
    } catch (err) {
      if (err instanceof NepheleError && err.code === 'E_UNKNOWN_SERVICE') {
        throw new NepheleError(ComputeSliceErrors.UNKNOWN_SLICE, `no slice named ${slice}: this node runs no cloud service`);
      }
      throw err;
    }
  }

  private checkLive(slice: string, members: number): void {
    if (!this.liveness.observe(slice, members, this.deps.now())) return;
    this.liveness.forget(slice);
    this.known.delete(slice);
    const error = sliceGoneError(slice);
    this.deps.log('warn', `compute: ${error}; its running jobs fail`);
    this.hooks.gone?.(slice, error);
  }

  private learnMembership(answer: Membership | null): void {
    const slice = answer?.slice ?? null;
    if (slice === this.mine) return;
    this.mine = slice;
    this.deps.log('info', slice ? `compute: hosting for slice ${slice}` : 'compute: in no slice');
    this.hooks.hostSlice(slice);
  }

  /**
   * A slice record (`authoritative`) is: members it no longer lists lose their copies. A list from the directory
   * may miss a member whose entry aged out, so it only adds members; a host that really leaves hands its copies
   * back itself (E_LEFT_SLICE) and stops qualifying.
   */
  private learnMembers(slice: string, members: readonly PeerId[], authoritative: boolean): void {
    const before = this.known.get(slice);
    const next = new Set(members);
    if (!authoritative) for (const p of before ?? []) next.add(p);
    if (before && before.size === next.size && [...next].every((p) => before.has(p))) return;
    this.known.set(slice, next);
    this.hooks.members(slice, [...next]);
  }
}

/** The slice and input files of a job, added to its view for the portal's job list. */
export function withPlacement(view: ComputeJobView, spec: JobSpec | undefined): ComputeJobView {
  if (!spec) return view;
  const files = new Set<string>();
  for (const task of spec.tasks) for (const f of task.inputFiles ?? []) files.add(f.path);
  return {
    ...view,
    ...(spec.slice === undefined ? {} : { slice: spec.slice }),
    ...(files.size === 0 ? {} : { inputFiles: [...files].slice(0, MAX_FILE_NAMES_IN_VIEW) }),
  };
}

const MAX_FILE_NAMES_IN_VIEW = 16;
