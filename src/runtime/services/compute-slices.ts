/**
 * Jobs on an allocated slice (issue #5, "optionally runs on an allocated slice"; P2PCS runs applications on a
 * slice): what the compute service learns from the cloud service of its node, through `ServiceDeps.command`.
 *
 *  - as a host: this node's slice (cloud `membership`), polled each tick; hosts advertise it in their pulls and
 *    subscribe only to jobs of their own slice;
 *  - as a submitter: a job naming a slice is admitted only if the cloud knows members of that slice here (cloud
 *    `membership {slice}`: the slice record on its owner and members, else the gossiped directory; it fails with
 *    E_UNKNOWN_SLICE otherwise), and the members of the slices of running jobs are kept fresh so the scheduler
 *    leases only to members and re-runs copies held by a host that left.
 *
 * The cloud answers asynchronously; one question per kind is in flight at a time, and the last answer stands.
 */
import type { PeerId } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';
import type { ServiceDeps } from '../node-service.ts';
import type { ComputeJobView } from './compute-types.ts';
import { jobSliceName, type JobSpec } from '../../protocols/scheduler/job-model.ts';

export const ComputeSliceErrors = {
  /** The cloud service does not know the slice here (the cloud's own code). */
  UNKNOWN_SLICE: 'E_UNKNOWN_SLICE',
} as const;

export interface SliceWatchHooks {
  /** This node's membership changed (null: it belongs to no slice). */
  readonly hostSlice: (slice: string | null) => void;
  /** The members of a slice that running jobs use are (newly) known. */
  readonly members: (slice: string, members: readonly PeerId[]) => void;
  /** Slices of the running jobs submitted here. */
  readonly activeSlices: () => readonly string[];
}

interface Membership {
  readonly slice: string;
  /** Null when the members come from the gossiped directory rather than the slice record. */
  readonly owner: PeerId | null;
  readonly members: readonly PeerId[];
}

export class SliceWatch {
  private mine: string | null = null;
  private askingMembership = false;
  private readonly asking = new Set<string>();
  /** The member list last handed to the scheduler, per slice. */
  private readonly known = new Map<string, ReadonlySet<PeerId>>();

  constructor(private readonly deps: Pick<ServiceDeps, 'command' | 'log'>, private readonly hooks: SliceWatchHooks) {}

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
    for (const slice of this.hooks.activeSlices()) {
      if (this.asking.has(slice)) continue;
      this.asking.add(slice);
      void this.describe(slice).then(
        (answer) => this.learnMembers(slice, answer.members, answer.owner !== null),
        // A slice released or forgotten since: nobody is a member any more.
        (err: unknown) => {
          if (err instanceof NepheleError && err.code === ComputeSliceErrors.UNKNOWN_SLICE) this.learnMembers(slice, [], true);
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
