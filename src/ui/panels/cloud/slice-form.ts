/**
 * The slice form's values → a runInstances query (the shape of protocols/slicing/slice-query.ts, as plain data
 * from cloud-types.ts; the UI never imports protocol code). Percentages in the form, fractions in the query. Bad
 * input is an Error whose message starts with a named code, shown as the panel's error; the node validates again.
 */
import type { CloudQuery } from '../../../runtime/services/cloud-types.ts';

export type QueryKind = CloudQuery['kind'];

/** What slices can be ranked by (protocols/attributes.ts RANKABLE_ATTRIBUTES), with labels for the form. */
export const RANK_ATTRIBUTES: readonly { readonly name: string; readonly label: string }[] = [
  { name: 'cpuScore', label: 'CPU speed' },
  { name: 'cores', label: 'cores' },
  { name: 'memoryMB', label: 'RAM' },
  { name: 'gpuMemoryMB', label: 'GPU memory' },
  { name: 'storageMB', label: 'disk' },
  { name: 'uptimeS', label: 'uptime' },
];

export const QUERY_KINDS: readonly { readonly kind: QueryKind; readonly label: string; readonly value: string }[] = [
  { kind: 'fraction', label: 'a share of any peers', value: 'Percent of peers' },
  { kind: 'top-fraction', label: 'the top % by an attribute', value: 'Top percent' },
  { kind: 'top-count', label: 'the n peers with the most of an attribute', value: 'Number of peers' },
];

export interface SliceFormValues {
  readonly name: string;
  readonly kind: QueryKind;
  readonly attribute: string;
  /** Percent for 'fraction' and 'top-fraction', a count for 'top-count'. */
  readonly value: number | null;
  readonly minCores: number | null;
  readonly minMemoryMB: number | null;
  readonly minGpuMemoryMB: number | null;
  readonly minStorageMB: number | null;
}

/** As the cloud service checks it (cloud-messages.ts sliceName). */
export const SLICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;

function fail(code: string, message: string): never {
  throw new Error(`${code}: ${message}`);
}

function present(x: number | null | undefined): x is number {
  // An emptied number input binds to null (or, briefly, to '').
  return x !== null && x !== undefined && (x as unknown) !== '';
}

export function buildSliceQuery(v: SliceFormValues): { slice: string; query: CloudQuery } {
  const slice = v.name.trim();
  if (!SLICE_NAME.test(slice)) fail('E_BAD_SLICE_NAME', 'a slice name is 1–48 letters, digits, _ . or -, starting with a letter or digit');
  const value = present(v.value) ? v.value : NaN;
  const requirements: Record<string, number> = {};
  const req: [keyof NonNullable<CloudQuery['requirements']>, number | null, string][] = [
    ['minCores', v.minCores, 'cores'], ['minMemoryMB', v.minMemoryMB, 'RAM (MB)'],
    ['minGpuMemoryMB', v.minGpuMemoryMB, 'GPU memory (MB)'], ['minStorageMB', v.minStorageMB, 'disk (MB)'],
  ];
  for (const [key, x, what] of req) {
    if (!present(x)) continue;
    if (!Number.isFinite(x) || x < 0 || (key === 'minCores' && !Number.isInteger(x))) fail('E_BAD_REQUIREMENT', `${what} must be a number ≥ 0${key === 'minCores' ? ' (whole)' : ''}`);
    if (x > 0) requirements[key] = x;
  }
  const extra = Object.keys(requirements).length > 0 ? { requirements } : {};
  if (v.kind === 'top-count') {
    if (!Number.isInteger(value) || value < 1) fail('E_BAD_QUERY', 'the number of peers must be a whole number ≥ 1');
    return { slice, query: { kind: 'top-count', n: value, attribute: attribute(v.attribute), ...extra } };
  }
  if (!(value > 0 && value <= 100)) fail('E_BAD_QUERY', 'the percentage must be above 0 and at most 100');
  if (v.kind === 'fraction') return { slice, query: { kind: 'fraction', p: value / 100, ...extra } };
  return { slice, query: { kind: 'top-fraction', p: value / 100, attribute: attribute(v.attribute), ...extra } };
}

function attribute(name: string): string {
  if (!RANK_ATTRIBUTES.some((a) => a.name === name)) fail('E_UNKNOWN_ATTRIBUTE', `choose an attribute to rank by`);
  return name;
}

/** A short text for a query, e.g. "top 10% by cpuScore, ≥ 4 cores". */
export function describeQuery(q: CloudQuery): string {
  const what = q.kind === 'fraction' ? `${round((q.p ?? 0) * 100)}% of peers`
    : q.kind === 'top-fraction' ? `top ${round((q.p ?? 0) * 100)}% by ${q.attribute ?? '?'}`
    : `${q.n ?? '?'} with most ${q.attribute ?? '?'}`;
  const r = q.requirements ?? {};
  const reqs = [
    r.minCores !== undefined ? `≥ ${r.minCores} cores` : '', r.minMemoryMB !== undefined ? `≥ ${r.minMemoryMB} MB RAM` : '',
    r.minGpuMemoryMB !== undefined ? `≥ ${r.minGpuMemoryMB} MB GPU` : '', r.minStorageMB !== undefined ? `≥ ${r.minStorageMB} MB disk` : '',
  ].filter((s) => s !== '');
  return [what, ...reqs].join(', ');
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
