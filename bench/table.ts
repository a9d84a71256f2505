/**
 * The benchmark result contract (docs: /work/shared/design/BENCH.md): rows of
 * figure | value | unit | reference | ratio, printed as a table and written to `bench/results/<suite>.json`.
 * `ratio` is always oriented so that higher is better.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchRow {
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  readonly reference: number | null;
  readonly referenceSource: string;
  readonly ratio: number | null;
  readonly n: number;
  readonly conditions: string;
}

export interface BenchSuite {
  readonly name: string;
  run(quick: boolean): Promise<BenchRow[]> | BenchRow[];
}

/** Which way is better for a figure: a larger value (throughput) or a smaller one (time, spread). */
export type Better = 'higher' | 'lower';

/** value / reference when higher is better, reference / value when lower is better; null without a reference. */
export function ratioOf(value: number, reference: number | null, better: Better): number | null {
  if (reference === null || !Number.isFinite(value) || !Number.isFinite(reference)) return null;
  if (better === 'higher') return reference === 0 ? null : value / reference;
  return value === 0 ? null : reference / value;
}

/** A row whose ratio is computed from `better`; the orientation is recorded in `conditions`. */
export function row(fields: Omit<BenchRow, 'ratio'> & { readonly better: Better }): BenchRow {
  const { better, ...rest } = fields;
  const orientation = better === 'lower' ? 'lower is better, ratio = reference/value' : 'higher is better, ratio = value/reference';
  return { ...rest, ratio: ratioOf(rest.value, rest.reference, better), conditions: `${rest.conditions}; ${orientation}` };
}

function fmt(x: number | null): string {
  if (x === null) return '-';
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4);
}

/** Prints the rows as an aligned text table. */
export function printTable(suite: string, rows: readonly BenchRow[]): void {
  const header = ['figure', 'n', 'value', 'unit', 'reference', 'ratio'];
  const cells = rows.map((r) => [r.figure, String(r.n), fmt(r.value), r.unit, fmt(r.reference), fmt(r.ratio)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const left = new Set([0, 3]);
  const line = (c: string[]): string => c.map((x, i) => (left.has(i) ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(' | ');
  console.log(`\n== ${suite} ==`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of cells) console.log(line(c));
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Writes `bench/results/<suite>.json`; returns its path. */
export function writeResults(suite: string, rows: readonly BenchRow[]): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${suite}.json`);
  writeFileSync(path, JSON.stringify(rows, null, 2) + '\n');
  return path;
}
