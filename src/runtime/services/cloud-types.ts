/**
 * The snapshot shape of the 'cloud' service (P2PCS, "Design and Implementation of a P2P Cloud System": node
 * attributes, cloud-wide totals, slices and their rings, sites). Shared by the service (cloud-service.ts) and by
 * the monitoring panel and CLI, which must not import protocol code — so this file holds plain types only.
 * Keep it stable: add fields, never rename or remove them.
 */

/** 40 lowercase hex characters (core/ids.ts). */
export type CloudPeerId = string;

/** What this node offers, as measured by the runtime (same fields as protocols/attributes.ts NodeAttributes). */
export interface CloudAttributes {
  readonly cores: number;
  readonly memoryMB: number;
  readonly gpuMemoryMB: number | null;
  /** Relative CPU speed (higher is faster), from `cpuScoreMethod`. */
  readonly cpuScore: number;
  readonly storageMB: number;
  readonly uptimeS: number;
  readonly site: string;
  /** How cpuScore was measured: 'wasm' (hand-assembled wasm loop) or 'js' (fallback loop). */
  readonly cpuScoreMethod: 'wasm' | 'js';
  /** Where memoryMB came from: 'measured' or 'default' (4096 when the platform does not say). */
  readonly memorySource: 'measured' | 'default';
}

/** Cloud-wide totals = averages from gossip aggregation × estimated size; null before the first epoch ends. */
export interface CloudTotals {
  readonly peers: number | null;
  /** Mean of (running tasks / task limit) over all peers, in [0, 1]. */
  readonly avgLoad: number | null;
  /** Sum of per-peer loads (in "fully loaded peers"). */
  readonly totalLoad: number | null;
  readonly freeCores: number | null;
  readonly freeMemoryMB: number | null;
  readonly freeStorageMB: number | null;
  /** Live slices, counted by averaging 1/size indicators held by each member. */
  readonly liveSlices: number | null;
}

/** A slice query (protocols/slicing/slice-query.ts SliceQuery), as plain data. */
export interface CloudQuery {
  readonly kind: 'fraction' | 'top-fraction' | 'top-count';
  readonly p?: number;
  readonly n?: number;
  readonly attribute?: string;
  readonly requirements?: {
    readonly minCores?: number;
    readonly minMemoryMB?: number;
    readonly minGpuMemoryMB?: number;
    readonly minStorageMB?: number;
  };
}

export interface CloudRing {
  readonly pred: CloudPeerId | null;
  readonly succ: CloudPeerId | null;
}

/** This node's slice membership (null when it belongs to none). */
export interface CloudMembership {
  readonly slice: string;
  readonly owner: CloudPeerId;
  readonly members: readonly CloudPeerId[];
  /** Ring neighbours by id from T-Man's view of the slice. */
  readonly ring: CloudRing;
  /** Ms timestamp until which this node's claim lease runs. */
  readonly leaseUntil: number;
}

/** A slice known here (owned by this node, or this node is a member). */
export interface CloudSliceInfo {
  readonly name: string;
  readonly owner: CloudPeerId;
  readonly query: CloudQuery;
  readonly size: number;
  readonly members: readonly CloudPeerId[];
}

export interface CloudSite {
  readonly label: string;
  /** Longest-uptime peer of the site known here (gossiped max over the view); this node when alone. */
  readonly head: CloudPeerId;
  readonly isHead: boolean;
  /** Peers of the same site seen recently (this node included). */
  readonly members: readonly CloudPeerId[];
}

/** One point of the chart history (oldest first, at most HISTORY_LENGTH). */
export interface CloudHistoryPoint {
  /** Ms timestamp. */
  readonly t: number;
  readonly size: number | null;
  readonly avgLoad: number | null;
  readonly liveSlices: number | null;
}

export interface CloudEdge {
  readonly from: CloudPeerId;
  readonly to: CloudPeerId;
  /** 'cyclon': peer-sampling view entry; 'tman': slice ring neighbour/view entry. */
  readonly kind: 'cyclon' | 'tman';
}

export interface CloudSnapshot {
  readonly self: CloudPeerId;
  readonly attributes: CloudAttributes;
  readonly totals: CloudTotals;
  /** Rank estimates in [0, 1) per ranked attribute (Sliver), e.g. { cpuScore: 0.8, memoryMB: 0.3 }. */
  readonly ranks: Readonly<Record<string, number>>;
  readonly membership: CloudMembership | null;
  readonly slices: readonly CloudSliceInfo[];
  readonly site: CloudSite;
  readonly history: readonly CloudHistoryPoint[];
  readonly edges: readonly CloudEdge[];
  /** Peers whose attributes this node knows (fresh directory entries, self excluded): the allocation candidates' pool. */
  readonly knownPeers: number;
}

export const CLOUD_HISTORY_LENGTH = 120;

/** Commands of the 'cloud' service (args in comments); results are plain JSON. */
export const CLOUD_COMMANDS = [
  'runInstances', // { slice, query, n? } → CloudSliceInfo
  'addInstances', // { slice, n } → CloudSliceInfo
  'terminateInstances', // { slice, peers } → CloudSliceInfo
  'describeInstances', // { slice } → CloudDescribeResult
  'releaseSlice', // { slice } → { released: number }
  'setSite', // { site } → CloudAttributes
  'membership', // {} → this node's { slice, owner, members } or null; { slice } → that slice's, or null
] as const;
export type CloudCommand = (typeof CLOUD_COMMANDS)[number];

/** describeInstances' answer: one row per member. */
export interface CloudInstanceRow {
  readonly peer: CloudPeerId;
  readonly ring: CloudRing | null;
  /** As last gossiped by that peer (null when not known here). */
  readonly attributes: CloudNodeAttributes | null;
}

/** Another peer's attributes as gossiped (without this node's measurement notes). */
export type CloudNodeAttributes = Omit<CloudAttributes, 'cpuScoreMethod' | 'memorySource'>;

export interface CloudDescribeResult {
  readonly slice: CloudSliceInfo;
  readonly instances: readonly CloudInstanceRow[];
}
