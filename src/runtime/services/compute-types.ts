/**
 * The compute service's part of the node snapshot (`snapshot.services.compute`) and its command names — the
 * shapes the portal's ComputePanel and the service share. No protocol code here: the UI imports this file.
 */

export const COMPUTE_SERVICE = 'compute';

export type ComputeJobState = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';
export type ComputeTaskState = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

export interface ComputeTaskView {
  readonly task: number;
  readonly state: ComputeTaskState;
  readonly votes: number;
  readonly exitCode: number | null;
  /** The agreed stdout, cut for the snapshot (the `results` command has all of it). */
  readonly stdout: string;
  /** A failed task's code and message (E_TIME_LIMIT, E_NO_QUORUM, …). */
  readonly error: string | null;
}

export interface ComputeJobView {
  readonly jobId: string;
  readonly name: string;
  readonly submittedAt: number;
  readonly state: ComputeJobState;
  readonly total: number;
  readonly pending: number;
  readonly running: number;
  readonly done: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly hosts: number;
  readonly redundancy: { readonly n: number; readonly k: number };
  /** Hosts whose results disagreed with the accepted ones (BOINC-style suspects). */
  readonly suspects: readonly string[];
  /** The first tasks of the job (up to MAX_TASKS_IN_SNAPSHOT). */
  readonly tasks: readonly ComputeTaskView[];
}

export interface ComputeHostedRun {
  readonly key: string;
  readonly jobId: string;
  readonly task: number;
  readonly submitter: string;
  readonly phase: 'fetching' | 'running';
  readonly startedAt: number;
}

export interface ComputeLimits {
  readonly maxConcurrent: number;
  readonly cpuCapPercent: number;
  readonly paused: boolean;
}

/** Credit for accepted work (compute-credit.ts), seconds of task time. */
export interface ComputeCredit {
  /** Seconds this node ran for others that their quorums accepted. */
  readonly creditSeconds: number;
  readonly tasksAccepted: number;
  /** Credit notices this node sent as a submitter to hosts whose results it accepted. */
  readonly noticesSent: number;
  /** The partner site this node lends for (set by the widget), or null. */
  readonly partner: string | null;
  /** Credit earned here per partner origin, seconds. */
  readonly partners: readonly { readonly origin: string; readonly seconds: number; readonly cloudSeconds: number | null }[];
  /** All credit in the cloud, seconds (cloud-wide mean × estimated size), null before aggregation reports. */
  readonly cloudCreditSeconds: number | null;
}

export interface ComputeSnapshot {
  readonly limits: ComputeLimits;
  readonly capabilities: { readonly cores: number; readonly ramMB: number; readonly gpuMemoryMB: number; readonly diskMB: number };
  readonly canHost: boolean;
  readonly jobs: readonly ComputeJobView[];
  readonly hosting: readonly ComputeHostedRun[];
  readonly stats: {
    readonly ran: number;
    readonly abandoned: number;
    readonly imagesFetched: number;
    readonly imagesServed: number;
    readonly imagesCached: number;
  };
  /** Test hook on: this node corrupts the stdout of tasks it runs (see compute-service.ts). */
  readonly lying: boolean;
  /** Guest kinds this node advertises as a host. */
  readonly kinds: readonly ('wasi' | 'x86')[];
  readonly credit: ComputeCredit;
}

/** One task's agreed result, as the `results` command returns it (and the panel downloads as JSON). */
export interface ComputeTaskResult {
  readonly task: number;
  readonly status: 'accepted' | 'failed' | 'pending' | 'cancelled';
  readonly ok: boolean | null;
  readonly exitCode: number | null;
  readonly code: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly digest: string | null;
  readonly error: string | null;
  readonly agreeing: readonly string[];
}

export const MAX_TASKS_IN_SNAPSHOT = 200;
export const MAX_SNAPSHOT_STDOUT_CHARS = 240;
