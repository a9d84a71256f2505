/**
 * What a tab sees of its node (the SharedWorker, or the dedicated-Worker fallback): one typed API exposed with
 * comlink, and the snapshot the UI renders. The UI never imports protocol code; it renders these values.
 */
import type { PeerId } from '../core/ids.ts';
import type { SignalingState } from '../net/types.ts';

/**
 * The Web Lock a tab holds for its whole life, so its node can tell when it has gone. Here, not in
 * worker-node.ts, because pages need it too: a value import from worker-node.ts would put the whole node
 * (protocols, services) into the page's bundle.
 */
export function tabLockName(cloud: string, tabId: string): string {
  return `nephele-tab:${cloud}:${tabId}`;
}

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
  /** Counts up from 1 over the node's life: a stable key for the entry (the portal's log list). */
  readonly seq: number;
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

/**
 * What the node sends a tab instead of a whole snapshot: the top-level fields and service parts that changed
 * since the last one it sent that tab (the first one is whole). The tab merges it into the snapshot it holds
 * (`applySnapshotPatch`), so unchanged parts keep their identity and the UI does not re-render them.
 */
export type SnapshotPatch = Partial<Omit<NodeSnapshot, 'services'>> & { readonly services?: Readonly<Record<string, unknown>> };

/**
 * A tab's patch maker: compares each part by its JSON (snapshots are plain data) with what this tab was last
 * sent. The clock (`now`) is always sent, so durations on the page keep moving.
 */
export function snapshotDiffer(): (snapshot: NodeSnapshot) => SnapshotPatch {
  const sent = new Map<string, string>();
  const changed = (key: string, value: unknown): boolean => {
    const json = JSON.stringify(value) ?? 'undefined';
    if (sent.get(key) === json) return false;
    sent.set(key, json);
    return true;
  };
  return (snapshot) => {
    const patch: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(snapshot)) {
      if (key !== 'services' && (key === 'now' || changed(key, value))) patch[key] = value;
    }
    const services = Object.entries(snapshot.services).filter(([name, part]) => changed(`services.${name}`, part));
    if (services.length > 0) patch['services'] = Object.fromEntries(services);
    return patch as SnapshotPatch;
  };
}

/** The snapshot after `patch`; null when a first patch is not whole (cannot happen with snapshotDiffer). */
export function applySnapshotPatch(previous: NodeSnapshot | null, patch: SnapshotPatch): NodeSnapshot | null {
  const services = patch.services ? { ...previous?.services, ...patch.services } : previous?.services;
  const next = { ...previous, ...patch, services } as NodeSnapshot;
  return next.peerId === undefined || next.services === undefined ? null : next;
}
