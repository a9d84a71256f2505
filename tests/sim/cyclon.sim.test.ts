/**
 * Cyclon at N = 10,000 in the cycle-driven simulator, checked against the paper's properties (Voulgaris et al.
 * 2005; reference PeerSim run in BENCH.md): narrow in-degree spread, a connected overlay, and connectivity after
 * half the nodes crash at once; and that the fast form of its view (flat arrays, integer keys) does exactly what the
 * straightforward one did.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/network.ts';
import { CycleEngine } from '../../src/sim/cycle-engine.ts';
import { bootstrapRandom, removeFraction } from '../../src/sim/churn.ts';
import { inDegreeStats, largestStrongComponent, largestWeakComponent, viewGraph } from '../../src/sim/metrics.ts';
import { Cyclon } from '../../src/protocols/peer-sampling/cyclon.ts';
import { sampleDistinct } from '../../src/protocols/peer-sampling/view.ts';
import { randomPeerId } from '../../src/sim/network.ts';
import { createRng, type Rng } from '../../src/core/rng.ts';
import type { PeerId } from '../../src/core/ids.ts';
import type { Effect, ProtocolContext } from '../../src/core/protocol.ts';
import type { CyclonMessage } from '../../src/wire/peer-sampling.ts';

function cyclonNetwork(n: number, seed: number) {
  const views = new Map<string, Cyclon>();
  const network = new SimNetwork({ seed });
  network.addNodes(n, (id) => {
    const c = new Cyclon({ viewSize: 20, shuffleLength: 8 });
    views.set(id, c);
    return [c];
  });
  bootstrapRandom(network, 20);
  const engine = new CycleEngine(network);
  const graph = () => viewGraph(network, (node) => views.get(node.id)!.view().map((e) => e.peer));
  return { network, engine, views, graph };
}

describe('Cyclon simulation, N = 10,000, view 20, shuffle 8', () => {
  it('builds a connected overlay with in-degree mean 20 and a narrow spread, and survives losing half the nodes', () => {
    const { network, engine, graph } = cyclonNetwork(10_000, 2005);
    const initial = inDegreeStats(graph());
    engine.run(60);
    const g = graph();
    const deg = inDegreeStats(g);
    expect(deg.mean).toBe(20);
    expect(deg.sd).toBeLessThan(3);
    expect(deg.sd).toBeLessThan(initial.sd * 0.6); // the random initial wiring has sd ~4.5
    expect(largestWeakComponent(g)).toBe(10_000);
    expect(largestStrongComponent(g)).toBe(10_000);

    removeFraction(network, 0.5);
    const justAfter = graph();
    engine.run(20);
    const after = graph();
    expect(network.live()).toHaveLength(5_000);
    expect(largestWeakComponent(after)).toBe(5_000);
    expect(largestStrongComponent(after)).toBe(5_000);
    // Each shuffle drops its (oldest) target, so links to crashed nodes fade without any failure detector.
    expect(after.deadLinks).toBeLessThan(justAfter.deadLinks / 2);
    // Views refill from the survivors' exchanges (a shuffle sent to a crashed node costs its slot until a merge fills it).
    const liveLinks = after.out.reduce((sum, targets) => sum + targets.length, 0);
    expect(liveLinks + after.deadLinks).toBeGreaterThan(0.95 * 20 * 5_000);
  });

  it('is deterministic: the same seed gives the same views, another seed different ones', () => {
    const run = (seed: number) => {
      const { engine, views } = cyclonNetwork(1_000, seed);
      engine.run(15);
      return [...views.values()].map((c) => c.view().map((e) => `${e.peer}:${e.age}`).join(',')).join('|');
    };
    const a = run(7);
    expect(run(7)).toBe(a);
    expect(run(8)).not.toBe(a);
  });
});

/**
 * The straightforward Cyclon (view as {peer, age} objects, a Map of outstanding shuffles, list copies), as it was
 * before the view moved into flat arrays for the simulator's speed. The fast one must do exactly what it does.
 */
class ReferenceCyclon {
  entries: { peer: PeerId; age: number }[] = [];
  readonly outstanding = new Map<PeerId, PeerId[]>();
  constructor(readonly viewSize: number, readonly shuffleLength: number) {}

  onTick(ctx: ProtocolContext): Effect<CyclonMessage>[] {
    if (this.entries.length === 0) return [];
    let oldest = 0;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      e.age++;
      if (e.age > this.entries[oldest]!.age) oldest = i;
    }
    const target = this.entries[oldest]!.peer;
    this.entries.splice(oldest, 1);
    const others = referenceSample(this.entries, this.shuffleLength - 1, ctx.rng);
    this.outstanding.delete(target);
    this.outstanding.set(target, others.map((e) => e.peer));
    if (this.outstanding.size > 4) this.outstanding.delete(this.outstanding.keys().next().value!);
    const sent = [{ peer: ctx.self, age: 0 }, ...others.map((e) => ({ peer: e.peer, age: e.age }))];
    return [{ kind: 'send', to: target, msg: { t: 'shuffle', entries: sent } }];
  }

  onMessage(ctx: ProtocolContext, from: PeerId, msg: CyclonMessage): Effect<CyclonMessage>[] {
    if (msg.t === 'shuffle') {
      const reply = referenceSample(this.entries.filter((e) => e.peer !== from), this.shuffleLength, ctx.rng);
      this.merge(ctx.self, msg.entries, reply.map((e) => e.peer));
      return [{ kind: 'send', to: from, msg: { t: 'shuffle-reply', entries: reply.map((e) => ({ peer: e.peer, age: e.age })) } }];
    }
    const sent = this.outstanding.get(from) ?? [];
    this.outstanding.delete(from);
    this.merge(ctx.self, msg.entries, sent);
    if (from !== ctx.self && !this.has(from) && this.entries.length < this.viewSize) this.entries.push({ peer: from, age: 0 });
    return [];
  }

  onPeerDown(peer: PeerId): void {
    this.entries = this.entries.filter((e) => e.peer !== peer);
    this.outstanding.delete(peer);
  }

  onPeersDiscovered(self: PeerId, peers: readonly PeerId[]): void {
    for (const peer of peers) {
      if (this.entries.length >= this.viewSize) break;
      if (peer === self || this.has(peer)) continue;
      this.entries.push({ peer, age: 0 });
    }
  }

  private merge(self: PeerId, received: readonly { peer: PeerId; age: number }[], sentToOther: readonly PeerId[]): void {
    const replaceable = sentToOther.slice();
    for (const { peer, age } of received) {
      if (peer === self || this.has(peer)) continue;
      if (this.entries.length < this.viewSize) {
        this.entries.push({ peer, age });
        continue;
      }
      let at = -1;
      while (at < 0 && replaceable.length > 0) {
        const victim = replaceable.shift()!;
        at = this.entries.findIndex((e) => e.peer === victim);
      }
      if (at < 0) break;
      this.entries[at] = { peer, age };
    }
  }

  private has(peer: PeerId): boolean {
    return this.entries.some((e) => e.peer === peer);
  }
}

/** sampleDistinct as it was: rejection sampling through a Set, or a partial Fisher–Yates shuffle of a copy. */
function referenceSample<T>(items: readonly T[], n: number, rng: Rng): T[] {
  const len = items.length;
  if (n <= 0 || len === 0) return [];
  if (n === 1) return [items[rng.int(len)]!];
  if (n * 4 <= len) {
    const chosen = new Set<number>();
    while (chosen.size < n) chosen.add(rng.int(len));
    return [...chosen].map((i) => items[i]!);
  }
  const copy = items.slice();
  const k = Math.min(n, len);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(len - i);
    const t = copy[i]!;
    copy[i] = copy[j]!;
    copy[j] = t;
  }
  copy.length = k;
  return copy;
}

describe('Cyclon keeps its behaviour in its flat-array form', () => {
  it('sampleDistinct picks the same elements, in the same order, with the same draws, as before', () => {
    const items = Array.from({ length: 300 }, (_, i) => i);
    for (let trial = 0; trial < 400; trial++) {
      const shape = createRng(trial);
      const len = shape.int(trial < 200 ? 30 : 300);
      const n = shape.int(len + 3) - 1;
      const a = createRng(1000 + trial);
      const b = createRng(1000 + trial);
      expect(sampleDistinct(items.slice(0, len), n, a)).toEqual(referenceSample(items.slice(0, len), n, b));
      expect(a.next()).toBe(b.next());
    }
  });

  it('gives the same views and the same messages as the straightforward version, operation by operation', () => {
    for (let trial = 0; trial < 60; trial++) {
      const rng = createRng(trial);
      const ids = Array.from({ length: 4 + rng.int(40) }, () => randomPeerId(rng));
      // Half the trials use ids that share a long prefix, as tests do, so that keys collide.
      if (trial % 2 === 1) for (let i = 0; i < ids.length; i++) ids[i] = i.toString(16).padStart(40, '0');
      const self = ids[0]!;
      const viewSize = 1 + rng.int(12);
      const shuffleLength = 1 + rng.int(viewSize + 2);
      const fast = new Cyclon({ viewSize, shuffleLength });
      const slow = new ReferenceCyclon(viewSize, Math.min(shuffleLength, viewSize));
      const fastRng = createRng(7 * trial);
      const slowRng = createRng(7 * trial);
      const ctxOf = (r: Rng): ProtocolContext => ({ self, now: 0, rng: r });
      const entries = () => Array.from({ length: rng.int(shuffleLength + 2) }, () => ({ peer: rng.pick(ids)!, age: rng.int(30) }));
      const targets: PeerId[] = [];
      for (let step = 0; step < 300; step++) {
        const op = rng.int(10);
        if (op < 3) {
          const out = fast.onTick(ctxOf(fastRng));
          expect(out).toEqual(slow.onTick(ctxOf(slowRng)));
          if (out[0]?.kind === 'send') targets.push(out[0].to);
        } else if (op < 6) {
          const from = rng.pick(ids)!;
          const msg: CyclonMessage = { t: 'shuffle', entries: entries() };
          expect(fast.onMessage(ctxOf(fastRng), from, msg)).toEqual(slow.onMessage(ctxOf(slowRng), from, msg));
        } else if (op < 8) {
          const from = rng.next() < 0.7 && targets.length > 0 ? rng.pick(targets.slice(-6))! : rng.pick(ids)!;
          const msg: CyclonMessage = { t: 'shuffle-reply', entries: entries() };
          expect(fast.onMessage(ctxOf(fastRng), from, msg)).toEqual(slow.onMessage(ctxOf(slowRng), from, msg));
        } else if (op < 9) {
          const peer = rng.pick(ids)!;
          fast.onPeerDown(ctxOf(fastRng), peer);
          slow.onPeerDown(peer);
        } else {
          const peers = rng.sample(ids, rng.int(6));
          fast.onPeersDiscovered(ctxOf(fastRng), peers);
          slow.onPeersDiscovered(self, peers);
        }
        expect(fast.view()).toEqual(slow.entries);
        expect(fast.sample(3, createRng(step))).toEqual(referenceSample(slow.entries, 3, createRng(step)).map((e) => e.peer));
      }
    }
  });
});
