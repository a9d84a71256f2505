/**
 * Layout of the topology picture: the peers named by the edges this node knows (its Cyclon view, T-Man slice-ring
 * neighbours, …) placed on a circle in peer-id order, so id rings (T-Man, Chord) show as short chords near the rim
 * and random view edges as long ones across. Pure and deterministic: the same edges give the same picture.
 */
import type { CloudEdge } from '../../../runtime/services/cloud-types.ts';

export interface LayoutNode {
  readonly peer: string;
  readonly x: number;
  readonly y: number;
  readonly self: boolean;
  /** In this node's slice. */
  readonly member: boolean;
}

export interface LayoutEdge {
  readonly key: string;
  readonly kind: string;
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  /** The edge is known from both ends. */
  readonly mutual: boolean;
}

export interface Layout {
  readonly size: number;
  readonly nodes: readonly LayoutNode[];
  readonly edges: readonly LayoutEdge[];
  /** Peers left out to keep the picture readable. */
  readonly hidden: number;
}

export const MAX_TOPOLOGY_NODES = 64;

export function layoutTopology(
  self: string,
  edges: readonly { readonly from: string; readonly to: string; readonly kind: CloudEdge['kind'] | string }[],
  members: readonly string[],
  size = 320,
): Layout {
  const all = new Set<string>([self]);
  for (const e of edges) {
    all.add(e.from);
    all.add(e.to);
  }
  // Keep self and its direct neighbours first when there are too many peers to draw.
  const near = new Set<string>([self, ...edges.filter((e) => e.from === self || e.to === self).flatMap((e) => [e.from, e.to])]);
  const ordered = [...all].sort((a, b) => Number(near.has(b)) - Number(near.has(a)) || (a < b ? -1 : a > b ? 1 : 0));
  const shown = new Set(ordered.slice(0, MAX_TOPOLOGY_NODES));
  const peers = [...shown].sort();
  const memberSet = new Set(members);
  const r = size / 2 - 14;
  const c = size / 2;
  const at = new Map<string, { x: number; y: number }>();
  const nodes = peers.map((peer, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, peers.length);
    const x = round(c + r * Math.cos(angle));
    const y = round(c + r * Math.sin(angle));
    at.set(peer, { x, y });
    return { peer, x, y, self: peer === self, member: memberSet.has(peer) };
  });
  const seen = new Map<string, LayoutEdge>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) continue;
    const [lo, hi] = e.from < e.to ? [e.from, e.to] : [e.to, e.from];
    const key = `${e.kind}:${lo}:${hi}`;
    const prev = seen.get(key);
    if (prev) {
      if (!prev.mutual && (prev.x1 !== a.x || prev.y1 !== a.y)) seen.set(key, { ...prev, mutual: true });
      continue;
    }
    seen.set(key, { key, kind: e.kind, x1: a.x, y1: a.y, x2: b.x, y2: b.y, mutual: false });
  }
  return { size, nodes, edges: [...seen.values()], hidden: all.size - shown.size };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
