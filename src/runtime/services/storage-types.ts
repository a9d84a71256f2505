/**
 * The storage service's part of the node snapshot (`snapshot.services.storage`), shared by the service and its
 * portal panel (which never imports protocol code).
 */
export const STORAGE_SERVICE = 'storage';

export interface TransferProgress {
  /** Manifest id for a get, or a local id for a put until its manifest is stored. */
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly chunksDone: number;
  readonly chunksTotal: number;
  readonly state: 'running' | 'done' | 'failed';
  readonly error: string | null;
  readonly startedAt: number;
  readonly finishedAt: number | null;
}

export interface StoredFile extends TransferProgress {
  /** `nephele://<manifestId>#k=<key>`, once stored. Only in this node's snapshot, never sent to peers. */
  readonly link: string | null;
  /** The fewest replicas any of its chunks reached at upload (the target is `replicas`). */
  readonly minReplicas: number | null;
}

export interface StorageSnapshot {
  readonly quotaBytes: number;
  readonly usedBytes: number;
  readonly chunksHeld: number;
  readonly replicas: number;
  readonly predecessor: string | null;
  readonly successors: readonly string[];
  readonly uploads: readonly StoredFile[];
  readonly downloads: readonly TransferProgress[];
  /** Chunks refused because their bytes did not hash to their id, and who sent them. */
  readonly refusedChunks: number;
  readonly badSenders: readonly string[];
  /** Copies pushed by re-replication since start, and the last pass's time. */
  readonly copiesPushed: number;
  readonly lastRepairAt: number | null;
  /** Stray copies deleted since start (chunks whose replica set this node left; absent in older snapshots). */
  readonly straysDeleted?: number;
  /** Named-object indexes this node took over from a dead or displaced index node (absent in older snapshots). */
  readonly indexesTakenOver?: number;
  /** Storage credit: GiB-hours this node has lent (bytes held × time while running; absent in older snapshots). */
  readonly lentGiBHours?: number;
  /** GiB-hours lent by the whole cloud (aggregated sum); null until an aggregation epoch has ended. */
  readonly cloudLentGiBHours?: number | null;
  /** Test hook: this node corrupts the chunks it serves (off unless switched on). */
  readonly corruptServed: boolean;
  /** Mutable named objects: keys this node indexes and versions it holds (absent in older snapshots). */
  readonly named?: NamedSnapshot;
}

/** A named object as its index node sees it: the chain's version, lock, replica pointers and who wrote what. */
export interface IndexedObject {
  readonly name: string;
  readonly version: number;
  readonly lockHolder: string | null;
  readonly waiting: number;
  readonly replicas: readonly { readonly holder: string; readonly version: number }[];
  readonly history: readonly { readonly version: number; readonly writer: string }[];
}

export interface NamedSnapshot {
  readonly indexed: readonly IndexedObject[];
  readonly held: readonly { readonly name: string; readonly version: number; readonly size: number }[];
}
