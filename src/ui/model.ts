/**
 * What the portal needs from the page: a store of the node's snapshots and a way to submit a job. The page
 * (src/main.ts) builds it from the comlink session; the UI never touches the node or protocol code directly.
 */
import type { Readable } from 'svelte/store';
import type { JobRequest, NodeSnapshot } from '../runtime/api.ts';

export interface PortalModel {
  /** Updated about every tick; null until the node's first snapshot arrives. */
  readonly snapshot: Readable<NodeSnapshot | null>;
  /** Resolves with the job id; rejects with Error('E_CODE: message'). */
  submitJob(request: JobRequest): Promise<string>;
  /** A command to one of the node's services (runtime/node-service.ts); rejects with Error('E_CODE: message'). */
  command(service: string, command: string, args: unknown): Promise<unknown>;
}

/** Props every service panel receives (see panels.ts). */
export interface ServicePanelProps {
  /** The service's part of the snapshot (`snapshot.services[name]`), unvalidated shape owned by the service. */
  readonly state: unknown;
  readonly now: number;
  readonly command: (command: string, args: unknown) => Promise<unknown>;
}

/**
 * One entry of /examples/index.json: a WASI module served next to the page. `defaultArgs` is the argument line
 * for the form (the index may list words; examples.ts joins them with shell quoting).
 */
export interface ExampleModule {
  readonly file: string;
  readonly title: string;
  readonly description: string;
  readonly defaultArgs?: string;
  readonly defaultStdin?: string;
}
