/**
 * What a host offers and what its lender allows (MISSION.md §1: a volunteer can pause and cap the CPU share),
 * and the one predicate both sides of the scheduler use: may this host run tasks of this job? The host asks it
 * before subscribing; the submitter asks it again, on the capabilities the host sent, before leasing.
 * A job on an allocated slice (P2PCS) qualifies only hosts whose membership is that slice; the submitter
 * also checks the host against the slice's member list it knows (see SubmitterBook.setSliceMembers).
 */
import type { JobImage, Requirements } from './job-model.ts';

export interface HostCapabilities {
  readonly cores: number;
  readonly ramMB: number;
  readonly gpuMemoryMB: number;
  readonly diskMB: number;
  /** Guest kinds this host can run (a WASI sandbox; v86 for x86). */
  readonly kinds: readonly ('wasi' | 'x86')[];
  /**
   * The host's position by attribute, as ordered slicing gives it: the fraction of peers ranked above it,
   * in [0, 1) (0 = the best). An attribute it does not know excludes it from jobs ranked by that attribute.
   */
  readonly ranks?: Readonly<Record<string, number>>;
  /** The slice this host is a member of (the cloud service's membership); null or absent: none. */
  readonly slice?: string | null;
}

export interface LenderLimits {
  /** Tasks this host runs at once. 0 lends nothing. */
  readonly maxConcurrentTasks: number;
  /** Share of the CPU the lender allows, 1..100; capabilities count cores × share. */
  readonly cpuCapPercent: number;
  /** A paused host subscribes to nothing and hands its leases back. */
  readonly paused: boolean;
}

export const DEFAULT_LENDER_LIMITS: LenderLimits = { maxConcurrentTasks: 1, cpuCapPercent: 100, paused: false };

/**
 * Why a host does not qualify, or null when it does. `slice` is the job's slice (absent: any host); the host's
 * own membership is `caps.slice`.
 */
export function unmetRequirement(
  image: JobImage, req: Requirements, caps: HostCapabilities, cpuCapPercent = 100, slice?: string,
): string | null {
  if (slice !== undefined && caps.slice !== slice) return `runs only on slice ${slice}; this host is in ${caps.slice ? `slice ${caps.slice}` : 'no slice'}`;
  if (!caps.kinds.includes(image.kind)) return `cannot run ${image.kind} guests`;
  const cores = (caps.cores * Math.min(100, Math.max(1, cpuCapPercent))) / 100;
  if (req.cores !== undefined && cores < req.cores) return `needs ${req.cores} cores, lends ${cores}`;
  const ramNeeded = Math.max(req.ramMB ?? 0, image.kind === 'x86' ? image.domain.memoryMB : 0);
  if (caps.ramMB < ramNeeded) return `needs ${ramNeeded} MB of RAM, has ${caps.ramMB}`;
  if (req.gpuMemoryMB !== undefined && caps.gpuMemoryMB < req.gpuMemoryMB) return `needs ${req.gpuMemoryMB} MB of graphics memory`;
  if (req.diskMB !== undefined && caps.diskMB < req.diskMB) return `needs ${req.diskMB} MB of disk`;
  if (req.rank) {
    const position = caps.ranks?.[req.rank.attribute];
    if (position === undefined) return `has no rank by ${req.rank.attribute}`;
    if (position >= req.rank.topPercent / 100) return `not in the top ${req.rank.topPercent}% by ${req.rank.attribute}`;
  }
  return null;
}

export function qualifies(image: JobImage, req: Requirements, caps: HostCapabilities, cpuCapPercent = 100, slice?: string): boolean {
  return unmetRequirement(image, req, caps, cpuCapPercent, slice) === null;
}
