/**
 * The typed SDK of a Nephele node (MISSION.md §6: "a developer uses the same operations from code"): a thin class
 * over one function, `command(service, name, args)`, which is what both runtimes expose — NodeCore.command in a
 * Node peer, and the portal model's `command` (comlink to the SharedWorker) in a page. It gives the compute,
 * storage and cloud commands typed arguments and results; the node still validates every argument itself, so the
 * SDK adds no checks of its own and never imports protocol code (type-only imports are erased).
 *
 * Errors: a rejected command rejects with the node's NepheleError (or, across comlink, an Error whose message
 * starts with the E_ code); `errorCode(err)` reads the code from either.
 */
import type { NodeSnapshot } from '../runtime/api.ts';
import type { ComputeLimits, ComputeSnapshot, ComputeTaskResult } from '../runtime/services/compute-types.ts';
import type { StorageSnapshot } from '../runtime/services/storage-types.ts';
import type {
  CloudAttributes,
  CloudDescribeResult,
  CloudQuery,
  CloudSliceInfo,
  CloudSnapshot,
} from '../runtime/services/cloud-types.ts';
import type { OutputLimits, Redundancy, Requirements, TaskSpec } from '../protocols/scheduler/job-model.ts';

/** The one entry point both runtimes offer (NodeCore.command, PortalModel.command). */
export type CommandFn = (service: string, command: string, args: unknown) => Promise<unknown>;

export const SERVICES = { compute: 'compute', storage: 'storage', cloud: 'cloud' } as const;

/** A compute job as the SDK takes it; the node fills in the image descriptor from the module bytes. */
export interface ComputeJob {
  readonly name?: string;
  readonly tasks: readonly TaskSpec[];
  readonly timeLimitMs: number;
  readonly requirements?: Requirements;
  readonly redundancy?: Redundancy;
  readonly outputLimits?: OutputLimits;
  /** Run only on members of this allocated slice (see CloudApi.runInstances); E_UNKNOWN_SLICE if this node does not know it. */
  readonly slice?: string;
}

export interface StoredLink {
  /** `nephele://<manifest>#k=<key>`: whoever holds it can read the file. */
  readonly link: string;
}

export interface FetchedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface RunInstancesArgs {
  readonly slice: string;
  readonly query: CloudQuery;
  /** Optional cap on the slice size, on top of the query. */
  readonly n?: number;
}

/** Reads the E_ code of a rejected command, whichever side of comlink it came from; null if it has none. */
export function errorCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E_[A-Z0-9_]+$/.test(code)) return code;
  const message = err instanceof Error ? err.message : String(err);
  return /^(E_[A-Z0-9_]+)\b/.exec(message)?.[1] ?? null;
}

export class NepheleSdk {
  readonly compute: ComputeApi;
  readonly storage: StorageApi;
  readonly cloud: CloudApi;

  constructor(command: CommandFn) {
    this.compute = new ComputeApi(command);
    this.storage = new StorageApi(command);
    this.cloud = new CloudApi(command);
  }
}

export class ComputeApi {
  constructor(private readonly command: CommandFn) {}

  /** Publishes a job running `image` (a WASI module) once per task; resolves with its id. */
  async submit(image: Uint8Array, job: ComputeJob): Promise<{ jobId: string }> {
    return (await this.command(SERVICES.compute, 'submit', { spec: { ...job }, image })) as { jobId: string };
  }

  async cancel(jobId: string): Promise<{ jobId: string }> {
    return (await this.command(SERVICES.compute, 'cancel', { jobId })) as { jobId: string };
  }

  /** Every task's agreed result so far (pending tasks included). */
  async results(jobId: string): Promise<ComputeTaskResult[]> {
    return (await this.command(SERVICES.compute, 'results', { jobId })) as ComputeTaskResult[];
  }

  async setLimits(limits: ComputeLimits): Promise<ComputeLimits> {
    return (await this.command(SERVICES.compute, 'setLimits', { ...limits })) as ComputeLimits;
  }
}

export class StorageApi {
  constructor(private readonly command: CommandFn) {}

  /** Chunks, encrypts and replicates `bytes`; resolves once stored, with the link that reads them back. */
  async put(name: string, bytes: Uint8Array): Promise<StoredLink> {
    return (await this.command(SERVICES.storage, 'put', { name, bytes })) as StoredLink;
  }

  async get(link: string): Promise<FetchedFile> {
    return (await this.command(SERVICES.storage, 'get', { link })) as FetchedFile;
  }

  async setQuota(bytes: number): Promise<{ quotaBytes: number }> {
    return (await this.command(SERVICES.storage, 'setQuota', { bytes })) as { quotaBytes: number };
  }
}

/** The EC2-style instance API over slices (P2PCS scripts: run / add / terminate / describe instances). */
export class CloudApi {
  constructor(private readonly command: CommandFn) {}

  async runInstances(args: RunInstancesArgs): Promise<CloudSliceInfo> {
    return (await this.command(SERVICES.cloud, 'runInstances', { ...args })) as CloudSliceInfo;
  }

  async addInstances(slice: string, n: number): Promise<CloudSliceInfo> {
    return (await this.command(SERVICES.cloud, 'addInstances', { slice, n })) as CloudSliceInfo;
  }

  async terminateInstances(slice: string, peers: readonly string[]): Promise<CloudSliceInfo> {
    return (await this.command(SERVICES.cloud, 'terminateInstances', { slice, peers: [...peers] })) as CloudSliceInfo;
  }

  async describeInstances(slice: string): Promise<CloudDescribeResult> {
    return (await this.command(SERVICES.cloud, 'describeInstances', { slice })) as CloudDescribeResult;
  }

  async releaseSlice(slice: string): Promise<{ released: number }> {
    return (await this.command(SERVICES.cloud, 'releaseSlice', { slice })) as { released: number };
  }

  async setSite(site: string): Promise<CloudAttributes> {
    return (await this.command(SERVICES.cloud, 'setSite', { site })) as CloudAttributes;
  }
}

/** The services' parts of a node snapshot, typed (undefined when the node does not run that service). */
export function serviceStates(snapshot: NodeSnapshot): {
  readonly compute: ComputeSnapshot | undefined;
  readonly storage: StorageSnapshot | undefined;
  readonly cloud: CloudSnapshot | undefined;
} {
  const s = snapshot.services;
  return {
    compute: s[SERVICES.compute] as ComputeSnapshot | undefined,
    storage: s[SERVICES.storage] as StorageSnapshot | undefined,
    cloud: s[SERVICES.cloud] as CloudSnapshot | undefined,
  };
}
