/**
 * Types shared by the scheduler's submitter side, host side and protocol: the result of a run as the runtime
 * reports it, what the runtime is asked to run, decided task outcomes, progress snapshots and error codes.
 */
import type { PeerId } from '../../core/ids.ts';
import type { SchedulerMessage } from '../../wire/scheduler.ts';
import type { JobImage, OutputLimits, TaskSpec } from './job-model.ts';

export const SchedulerErrors = {
  /** No k digests can agree within the vote cap. */
  NO_QUORUM: 'E_NO_QUORUM',
  /** The task's copies were lost (expired, host down) more often than allowed. */
  TASK_LOST: 'E_TASK_LOST',
  HOST_PAUSED: 'E_HOST_PAUSED',
  HOST_BUSY: 'E_HOST_BUSY',
  UNKNOWN_JOB: 'E_UNKNOWN_JOB',
  /** The host stopped being a member of the job's slice. */
  LEFT_SLICE: 'E_LEFT_SLICE',
} as const;

/** A message to send (the protocol turns these into effects). */
export interface Outgoing {
  readonly to: PeerId;
  readonly msg: SchedulerMessage;
}

/** What a host's runtime reports for one run; `digest` is computed by the runtime over the result. */
export interface TaskResult {
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly code: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

export interface RunResult extends TaskResult {
  readonly digest: string;
}

/** `${jobId}:${lease}` — names one leased task copy on a host. */
export type TaskKey = string;

/** A copy the runtime finished, with its result (several of them are reported together after a batch). */
export interface FinishedRun {
  readonly key: TaskKey;
  readonly result: RunResult;
}

/** What the host's runtime must run (read with `takeRunRequests()`). */
export interface RunRequest {
  readonly key: TaskKey;
  readonly jobId: string;
  readonly submitter: PeerId;
  readonly task: number;
  readonly spec: TaskSpec;
  readonly image: JobImage;
  readonly timeLimitMs: number;
  readonly outputLimits: OutputLimits;
  /** The lender's CPU share, for the runtime to throttle the sandbox. */
  readonly cpuCapPercent: number;
}

/** A task decided on the submitter (read with `takeOutcomes()`). */
export interface TaskOutcome {
  readonly jobId: string;
  readonly task: number;
  readonly status: 'accepted' | 'failed';
  readonly digest: string | null;
  readonly result: TaskResult | null;
  readonly error: string | null;
  readonly agreeing: PeerId[];
  readonly suspects: PeerId[];
}

export type TaskState = 'pending' | 'running' | 'accepted' | 'failed' | 'cancelled';

export interface TaskProgress {
  readonly task: number;
  readonly state: TaskState;
  readonly votes: number;
  readonly copiesOut: number;
  readonly losses: number;
  readonly digest: string | null;
  readonly error: string | null;
}

export interface JobProgress {
  readonly jobId: string;
  readonly status: 'running' | 'completed' | 'failed' | 'cancelled';
  readonly total: number;
  readonly pending: number;
  readonly running: number;
  readonly accepted: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly leasesOut: number;
  readonly hosts: number;
  readonly suspects: PeerId[];
}
