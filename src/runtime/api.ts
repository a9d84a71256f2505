/**
 * What a tab sees of its node (the SharedWorker, or the dedicated-Worker fallback): one typed API exposed with
 * comlink, and the snapshot the UI renders. The UI never imports protocol code; it renders these values.
 */
import type { PeerId } from '../core/ids.ts';
import type { SignalingState } from '../net/types.ts';

export interface ConnectionInfo {
  readonly peer: PeerId;
  readonly since: number;
  readonly framesIn: number;
  readonly framesOut: number;
}

export interface ViewEntry {
  readonly peer: PeerId;
  readonly age: number;
}

export interface LogEntry {
  readonly at: number;
  readonly level: 'info' | 'warn';
  readonly text: string;
}

export interface JobRequest {
  /** Display name, e.g. the file name of the module. */
  readonly name: string;
  /** The WASI preview1 command module. */
  readonly wasm: Uint8Array;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
  /** Wall-clock limit for the task on the host, ms. */
  readonly timeLimitMs: number;
  /** Memory limit for the guest, MiB. */
  readonly memoryLimitMiB: number;
}

export type JobState = 'dispatching' | 'running' | 'done' | 'failed';

export interface JobRecord {
  readonly id: string;
  readonly name: string;
  readonly submittedAt: number;
  readonly state: JobState;
  /** The peer that ran (or is running) it. */
  readonly host: PeerId | null;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Named error (`E_TIME_LIMIT: ...`) when the job failed. */
  readonly error: string | null;
  readonly durationMs: number | null;
  readonly attempts: number;
}

export interface HostedTask {
  readonly jobId: string;
  readonly forPeer: PeerId;
  readonly name: string;
  readonly startedAt: number;
}

export interface NodeSnapshot {
  readonly peerId: PeerId;
  readonly cloud: string;
  readonly startedAt: number;
  readonly now: number;
  readonly signaling: SignalingState;
  /** Whether some tab of this browser currently holds the node's WebRTC connections. */
  readonly hasConnectionHolder: boolean;
  readonly tabs: number;
  readonly connections: readonly ConnectionInfo[];
  readonly view: readonly ViewEntry[];
  /** Estimated number of peers in the cloud (gossip aggregation); null until the first epoch ends. */
  readonly estimatedSize: number | null;
  readonly jobs: readonly JobRecord[];
  readonly hosting: readonly HostedTask[];
  readonly log: readonly LogEntry[];
  readonly rejectedMessages: number;
  /** Each service's own part (see runtime/node-service.ts), keyed by service name. */
  readonly services: Readonly<Record<string, unknown>>;
}
