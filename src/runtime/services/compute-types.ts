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
  /** The allocated slice the job runs on, if any. */
  readonly slice?: string;
  /** Paths of the input files its tasks bring (the first few). */
  readonly inputFiles?: readonly string[];
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
    /** Where this host's images came from: its persistent cache, the DHT, or the submitter. */
    readonly imagesFrom?: { readonly cache: number; readonly dht: number; readonly submitter: number };
    /** DHT gets of an image that failed or were refused (the host then asked the submitter). */
    readonly imagesDhtFailed?: number;
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

/**
 * Input files the portal form sends inline (as text in every task): each at most JobLimits.MAX_INLINE_FILE_CHARS
 * characters, all together small enough that a task still fits its lease message (JobLimits.MAX_TASK_JSON_BYTES
 * is 48 KiB). Repeated here because the UI does not import protocol code; a unit test keeps them in step.
 */
export const MAX_INLINE_INPUT_FILE_CHARS = 32 * 1024;
export const MAX_INLINE_INPUT_TOTAL_BYTES = 40 * 1024;
/** A slice name (as the cloud names slices); repeated for the form, checked again by the node. */
export const SLICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;
export const MAX_SNAPSHOT_STDOUT_CHARS = 240;
