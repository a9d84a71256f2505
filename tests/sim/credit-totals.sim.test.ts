/**
 * Cloud-wide sums by push-pull averaging (Jelasity, Montresor, Babaoglu 2005) for values most nodes lack: 1,000
 * nodes, 30 of which hold credit for partner A. With `sum.` keys (missing counts as 0) every node's
 * mean × estimated size lands within a few % of the true sum after an epoch; the same value averaged as a plain
 * named value (missing = left out) would be overstated about 1000 / 30 times, and most nodes would not see it.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/network.ts';
import { CycleEngine } from '../../src/sim/cycle-engine.ts';
import { uniformView } from '../../src/sim/uniform-view.ts';
import { createRng } from '../../src/core/rng.ts';
import { SizeEstimation } from '../../src/protocols/aggregation/size-estimation.ts';
import { summedKey, MAX_SUMMED_KEYS } from '../../src/protocols/aggregation/averaging.ts';

const EPOCH = 20;
const N = 1000;
const HOLDERS = 30;
const SUMMED = summedKey('credit.a');
const PLAIN = 'credit.a';

function run(seed: number, extraKeys = 0) {
  const network = new SimNetwork({ seed });
  const view = uniformView(network);
  const rng = createRng(seed + 1);
  const holders = new Set(rng.sample([...Array(N).keys()], HOLDERS));
  let trueSum = 0;
  const nodes: SizeEstimation[] = [];
  let index = 0;
  network.addNodes(N, () => {
    const values = new Map<string, number>([['load', 0.5]]);
    if (holders.has(index)) {
      const seconds = 10 + rng.int(500);
      trueSum += seconds;
      values.set(SUMMED, seconds);
      values.set(PLAIN, seconds);
    }
    // Other summed keys held by one node each (more than the cap: only the smallest names survive).
    if (index < extraKeys) values.set(summedKey(`x${String(index).padStart(3, '0')}`), 1);
    index++;
    const s = new SizeEstimation({ view, epochCycles: EPOCH, localValues: () => values });
    nodes.push(s);
    return [s];
  });
  new CycleEngine(network).run(2 * EPOCH + 2);
  return { nodes, trueSum };
}

function totals(nodes: SizeEstimation[], key: string): (number | null)[] {
  return nodes.map((s) => {
    const mean = s.averages()?.get(key);
    const size = s.estimate();
    return mean === undefined || size === null ? null : mean * size;
  });
}

describe('cloud-wide sums of values most nodes lack (1,000 nodes, 30 with credit for one partner)', () => {
  it('every node estimates the sum within 5% with summed keys; the plain mean would be far off', () => {
    const { nodes, trueSum } = run(6);
    const summed = totals(nodes, SUMMED);
    expect(summed.every((t) => t !== null)).toBe(true);
    const worst = Math.max(...summed.map((t) => Math.abs(t! - trueSum) / trueSum));
    expect(worst).toBeLessThan(0.05);

    // The old semantics, on the same run: only holders know the key, and their total is overstated.
    const plain = totals(nodes, PLAIN);
    const known = plain.filter((t): t is number => t !== null);
    expect(known.length).toBeLessThanOrEqual(HOLDERS);
    const meanPlain = known.reduce((a, b) => a + b, 0) / known.length;
    expect(meanPlain / trueSum).toBeGreaterThan(10);
    // Plain named values keep working as means over the nodes that have them.
    expect(nodes.every((s) => Math.abs((s.averages()?.get('load') ?? 0) - 0.5) < 1e-9)).toBe(true);
  });

  it('keeps at most MAX_SUMMED_KEYS summed keys, the same ones everywhere, and stays exact for them', () => {
    const { nodes, trueSum } = run(7, 40);
    const keys = new Set<string>();
    for (const s of nodes) for (const key of s.averages()?.keys() ?? []) if (key.startsWith('sum.')) keys.add(key);
    expect(keys.size).toBe(MAX_SUMMED_KEYS);
    // 'sum.credit.a' sorts before 'sum.x…', so it survives the cap; x000 … x014 survive with it.
    expect(keys.has(SUMMED)).toBe(true);
    const t = totals(nodes, SUMMED);
    expect(Math.max(...t.map((v) => Math.abs(v! - trueSum) / trueSum))).toBeLessThan(0.05);
    const one = totals(nodes, summedKey('x000'));
    expect(Math.max(...one.map((v) => Math.abs(v! - 1)))).toBeLessThan(0.05);
  });

  it('is deterministic by seed', () => {
    const a = totals(run(9).nodes, SUMMED);
    expect(totals(run(9).nodes, SUMMED)).toEqual(a);
  });
});
