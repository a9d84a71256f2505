/**
 * Measurements of the overlay a peer-sampling protocol builds (the figures of the Cyclon paper): the directed
 * graph of views over the live nodes, its in-degree distribution, its largest weakly and strongly connected
 * components, its clustering coefficient, and the spread of values for aggregation.
 */
import type { PeerId } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import type { SimNetwork, SimNode } from './network.ts';

export interface ViewGraph {
  /** Live node ids; vertex i is ids[i]. */
  readonly ids: readonly PeerId[];
  /** Out-neighbours of each vertex (links to live nodes only). */
  readonly out: readonly Int32Array[];
  /** Links that point at removed or unknown nodes. */
  readonly deadLinks: number;
}

/** The directed graph whose edges are the view entries of every live node. */
export function viewGraph(network: SimNetwork, neighbours: (node: SimNode) => readonly PeerId[]): ViewGraph {
  const live = network.live();
  const index = new Map<PeerId, number>();
  live.forEach((node, i) => index.set(node.id, i));
  let deadLinks = 0;
  const out = live.map((node) => {
    const targets: number[] = [];
    for (const peer of neighbours(node)) {
      const j = index.get(peer);
      if (j === undefined) deadLinks++;
      else targets.push(j);
    }
    return Int32Array.from(targets);
  });
  return { ids: live.map((n) => n.id), out, deadLinks };
}

/** The graph without the given vertices, as if they had crashed (their links count as dead). */
export function withoutVertices(graph: ViewGraph, removed: ReadonlySet<PeerId>): ViewGraph {
  const keep: number[] = [];
  const renumber = new Int32Array(graph.ids.length).fill(-1);
  graph.ids.forEach((id, i) => {
    if (removed.has(id)) return;
    renumber[i] = keep.length;
    keep.push(i);
  });
  let deadLinks = graph.deadLinks;
  const out = keep.map((i) => {
    const targets: number[] = [];
    for (const j of graph.out[i]!) {
      const k = renumber[j]!;
      if (k < 0) deadLinks++;
      else targets.push(k);
    }
    return Int32Array.from(targets);
  });
  return { ids: keep.map((i) => graph.ids[i]!), out, deadLinks };
}

export interface Stats {
  readonly mean: number;
  readonly sd: number;
  readonly min: number;
  readonly max: number;
}

export function stats(values: ArrayLike<number>): Stats {
  const n = values.length;
  if (n === 0) return { mean: 0, sd: 0, min: 0, max: 0 };
  let sum = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2;
  return { mean, sd: Math.sqrt(sq / n), min, max };
}

export function inDegrees(graph: ViewGraph): Int32Array {
  const deg = new Int32Array(graph.ids.length);
  for (const targets of graph.out) for (const j of targets) deg[j]!++;
  return deg;
}

export function inDegreeStats(graph: ViewGraph): Stats {
  return stats(inDegrees(graph));
}

/** Size of the largest weakly connected component (edges taken as undirected), by union-find. */
export function largestWeakComponent(graph: ViewGraph): number {
  const n = graph.ids.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  graph.out.forEach((targets, i) => {
    for (const j of targets) {
      const a = find(i), b = find(j);
      if (a !== b) parent[a] = b;
    }
  });
  const size = new Int32Array(n);
  let best = 0;
  for (let i = 0; i < n; i++) best = Math.max(best, ++size[find(i)]!);
  return best;
}

/** Size of the largest strongly connected component (Tarjan's algorithm, iterative so 10^5 nodes fit the stack). */
export function largestStrongComponent(graph: ViewGraph): number {
  const n = graph.ids.length;
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const callStack: number[] = [];
  const edgePos = new Int32Array(n);
  let counter = 0;
  let best = 0;
  for (let root = 0; root < n; root++) {
    if (order[root] !== -1) continue;
    callStack.push(root);
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (callStack.length > 0) {
      const v = callStack[callStack.length - 1]!;
      const targets = graph.out[v]!;
      if (edgePos[v]! < targets.length) {
        const w = targets[edgePos[v]!++]!;
        if (order[w] === -1) {
          order[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          callStack.push(w);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, order[w]!);
        }
        continue;
      }
      callStack.pop();
      const parent = callStack[callStack.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent]!, low[v]!);
      if (low[v] === order[v]) {
        let size = 0;
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          size++;
        } while (w !== v);
        best = Math.max(best, size);
      }
    }
  }
  return best;
}

/**
 * Mean local clustering coefficient of the undirected view graph, over `samples` random vertices (all when
 * omitted): the fraction of a vertex's neighbour pairs that are themselves linked.
 */
export function clusteringCoefficient(graph: ViewGraph, rng: Rng, samples?: number): number {
  const n = graph.ids.length;
  const undirected: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
  graph.out.forEach((targets, i) => {
    for (const j of targets) {
      if (i === j) continue;
      undirected[i]!.add(j);
      undirected[j]!.add(i);
    }
  });
  const vertices = samples === undefined || samples >= n ? [...Array(n).keys()] : rng.sample([...Array(n).keys()], samples);
  let total = 0;
  for (const v of vertices) {
    const nb = [...undirected[v]!];
    if (nb.length < 2) continue;
    let links = 0;
    for (let a = 0; a < nb.length; a++) for (let b = a + 1; b < nb.length; b++) if (undirected[nb[a]!]!.has(nb[b]!)) links++;
    total += links / ((nb.length * (nb.length - 1)) / 2);
  }
  return vertices.length === 0 ? 0 : total / vertices.length;
}

/** Variance of a set of values (population variance), for aggregation convergence. */
export function variance(values: ArrayLike<number>): number {
  const s = stats(values);
  return s.sd * s.sd;
}
