import { describe, expect, it } from 'vitest';
import { decodeSliceQuery, meetsRequirements, resolveSliceQuery, selectPeers, type SliceQuery } from '../../src/protocols/slicing/slice-query.ts';
import { attributeValue, decodeNodeAttributes, type NodeAttributes } from '../../src/protocols/attributes.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const attrs = (over: Partial<NodeAttributes> = {}): NodeAttributes => ({
  cores: 4, memoryMB: 8192, gpuMemoryMB: null, cpuScore: 100, storageMB: 50_000, uptimeS: 3600, site: 'lab-a', ...over,
});
const codeOf = (d: { ok: boolean; code?: string }) => (d.ok ? 'ok' : d.code);

describe('node attributes', () => {
  it('validates the shape the runtime measures', () => {
    expect(decodeNodeAttributes(attrs()).ok).toBe(true);
    expect(decodeNodeAttributes(attrs({ gpuMemoryMB: 4096 })).ok).toBe(true);
    expect(codeOf(decodeNodeAttributes({ ...attrs(), cores: -1 }))).toBe('E_BAD_ATTRIBUTES');
    expect(codeOf(decodeNodeAttributes({ ...attrs(), cores: 2.5 }))).toBe('E_BAD_ATTRIBUTES');
    expect(codeOf(decodeNodeAttributes({ ...attrs(), extra: 1 }))).toBe('E_BAD_ATTRIBUTES');
    expect(codeOf(decodeNodeAttributes({ cores: 1 }))).toBe('E_BAD_ATTRIBUTES');
  });

  it('ranks a missing GPU as 0 MB', () => {
    expect(attributeValue(attrs(), 'gpuMemoryMB')).toBe(0);
    expect(attributeValue(attrs({ gpuMemoryMB: 2048 }), 'gpuMemoryMB')).toBe(2048);
  });
});

describe('slice queries', () => {
  it('decodes the three kinds with requirements', () => {
    expect(decodeSliceQuery({ kind: 'fraction', p: 0.05 }).ok).toBe(true);
    expect(decodeSliceQuery({ kind: 'top-fraction', p: 0.01, attribute: 'cpuScore' }).ok).toBe(true);
    expect(decodeSliceQuery({ kind: 'top-count', n: 200, attribute: 'cpuScore', requirements: { minCores: 2, minMemoryMB: 1024, minGpuMemoryMB: 0, minStorageMB: 10 } }).ok).toBe(true);
  });

  it('rejects bad queries with named codes', () => {
    expect(codeOf(decodeSliceQuery({ kind: 'top-count', n: 5, attribute: 'colour' }))).toBe('E_UNKNOWN_ATTRIBUTE');
    expect(codeOf(decodeSliceQuery({ kind: 'top-count', n: 5, attribute: 42 }))).toBe('E_UNKNOWN_ATTRIBUTE');
    expect(codeOf(decodeSliceQuery({ kind: 'fraction', p: 0 }))).toBe('E_BAD_QUERY');
    expect(codeOf(decodeSliceQuery({ kind: 'fraction', p: 1.5 }))).toBe('E_BAD_QUERY');
    expect(codeOf(decodeSliceQuery({ kind: 'top-count', n: 2.5, attribute: 'cores' }))).toBe('E_BAD_QUERY');
    expect(codeOf(decodeSliceQuery({ kind: 'top-count', n: 5 }))).toBe('E_BAD_QUERY');
    expect(codeOf(decodeSliceQuery({ kind: 'fraction', p: 0.5, requirements: { minCores: -1 } }))).toBe('E_BAD_QUERY');
    expect(codeOf(decodeSliceQuery({ kind: 'fraction', p: 0.5, requirements: { minBananas: 1 } }))).toBe('E_BAD_QUERY');
    expect(codeOf(decodeSliceQuery('top 5'))).toBe('E_BAD_QUERY');
    expect(codeOf(decodeSliceQuery({ kind: 'all' }))).toBe('E_BAD_QUERY');
  });

  it('checks requirements, a missing GPU failing any GPU requirement', () => {
    expect(meetsRequirements(attrs(), undefined)).toBe(true);
    expect(meetsRequirements(attrs(), { minCores: 4, minMemoryMB: 8192 })).toBe(true);
    expect(meetsRequirements(attrs(), { minCores: 8 })).toBe(false);
    expect(meetsRequirements(attrs(), { minStorageMB: 60_000 })).toBe(false);
    expect(meetsRequirements(attrs(), { minGpuMemoryMB: 0 })).toBe(false);
    expect(meetsRequirements(attrs({ gpuMemoryMB: 1024 }), { minGpuMemoryMB: 512 })).toBe(true);
  });

  it('resolves to a count and a rank boundary, or E_IMPOSSIBLE naming both numbers', () => {
    const top10: SliceQuery = { kind: 'top-fraction', p: 0.1, attribute: 'cpuScore' };
    expect(resolveSliceQuery(top10, 1000)).toEqual({ ok: true, value: { count: 100, attribute: 'cpuScore', rankFrom: 0.9 } });
    expect(resolveSliceQuery({ kind: 'fraction', p: 0.05 }, 10)).toEqual({ ok: true, value: { count: 1, attribute: null, rankFrom: 0.9 } });
    const impossible = resolveSliceQuery({ kind: 'top-count', n: 200, attribute: 'cores' }, 150);
    expect(impossible.ok).toBe(false);
    if (!impossible.ok) {
      expect(impossible.code).toBe('E_IMPOSSIBLE');
      expect(impossible.reason).toContain('needs 200');
      expect(impossible.reason).toContain('only 150');
    }
    expect(codeOf(resolveSliceQuery({ kind: 'fraction', p: 0.5 }, 0))).toBe('E_IMPOSSIBLE');
  });

  it('selects exactly the eligible peers with the most of the attribute', () => {
    const candidates = [
      { peer: id(1), attrs: attrs({ cpuScore: 10 }) },
      { peer: id(2), attrs: attrs({ cpuScore: 90, cores: 1 }) }, // fastest but fails minCores
      { peer: id(3), attrs: attrs({ cpuScore: 50 }) },
      { peer: id(4), attrs: attrs({ cpuScore: 50 }) }, // tie with id(3): higher id ranks higher
      { peer: id(5), attrs: attrs({ cpuScore: 70 }) },
    ];
    const top2 = selectPeers({ kind: 'top-count', n: 2, attribute: 'cpuScore', requirements: { minCores: 2 } }, candidates);
    expect(top2).toEqual({ ok: true, value: [id(5), id(4)] });
    const half = selectPeers({ kind: 'top-fraction', p: 0.5, attribute: 'cpuScore' }, candidates);
    expect(half).toEqual({ ok: true, value: [id(2), id(5), id(4)] });
    expect(codeOf(selectPeers({ kind: 'top-count', n: 5, attribute: 'cpuScore', requirements: { minCores: 2 } }, candidates))).toBe('E_IMPOSSIBLE');
    expect(selectPeers({ kind: 'fraction', p: 0.4 }, candidates)).toEqual({ ok: true, value: [id(1), id(2)] });
  });
});
