import { describe, expect, it } from 'vitest';
import { DEFAULT_OUTPUT_LIMITS, JobLimits, parseJobSpec } from '../../src/protocols/scheduler/job-model.ts';

const HASH = 'ab'.repeat(32);
const task = (i = 0) => ({ args: ['prog', String(i)], env: { MODE: 'fast' }, stdin: '' });
const wasiJob = (over: Record<string, unknown> = {}) => ({
  image: { kind: 'wasi', sha256: HASH, size: 1024 },
  tasks: [task(0), task(1)],
  timeLimitMs: 5_000,
  ...over,
});

function badPath(raw: unknown): string {
  const r = parseJobSpec(raw);
  if (r.ok) throw new Error('expected E_BAD_JOB');
  expect(r.code).toBe('E_BAD_JOB');
  expect(r.reason.startsWith(r.path || 'job')).toBe(true);
  return r.path;
}

describe('job model', () => {
  it('accepts a WASI job and fills in defaults', () => {
    const r = parseJobSpec(wasiJob());
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.redundancy).toEqual({ n: 1, k: 1 });
    expect(r.value.requirements).toEqual({});
    expect(r.value.outputLimits).toEqual(DEFAULT_OUTPUT_LIMITS);
    expect(r.value.tasks).toHaveLength(2);
  });

  it('accepts an x86 job with requirements, rank, input files and 2-of-3 redundancy', () => {
    const r = parseJobSpec({
      name: 'render',
      image: { kind: 'x86', domain: { memoryMB: 128, boot: 'linux', kernel: HASH, initrd: HASH, disk: HASH } },
      tasks: [{ ...task(), inputFiles: [{ path: 'in/a.txt', inline: 'hello' }, { path: 'b.bin', sha256: HASH }] }],
      requirements: { cores: 2, ramMB: 2048, gpuMemoryMB: 256, diskMB: 100, peers: 5, rank: { attribute: 'speed', topPercent: 10 } },
      timeLimitMs: 60_000,
      outputLimits: { stdoutBytes: 1000, stderrBytes: 0 },
      redundancy: { n: 3, k: 2 },
    });
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.redundancy).toEqual({ n: 3, k: 2 });
    expect(r.value.requirements.rank).toEqual({ attribute: 'speed', topPercent: 10 });
  });

  it.each([
    ['a NUL in an argument', wasiJob({ tasks: [task(), task(), task(), { ...task(), args: ['ok', 'a\0b'] }] }), 'tasks.3.args.1'],
    ['no tasks', wasiJob({ tasks: [] }), 'tasks'],
    ['too many tasks', wasiJob({ tasks: Array.from({ length: JobLimits.MAX_TASKS + 1 }, () => task()) }), 'tasks'],
    ['a bad image hash', wasiJob({ image: { kind: 'wasi', sha256: 'XYZ', size: 10 } }), 'image.sha256'],
    ['an unknown image kind', wasiJob({ image: { kind: 'arm', sha256: HASH, size: 10 } }), 'image.kind'],
    ['linux boot without a kernel', wasiJob({ image: { kind: 'x86', domain: { memoryMB: 64, boot: 'linux' } } }), 'image.domain.kernel'],
    ['snapshot boot without a snapshot', wasiJob({ image: { kind: 'x86', domain: { memoryMB: 64, boot: 'snapshot', kernel: HASH } } }), 'image.domain.snapshot'],
    ['k above n', wasiJob({ redundancy: { n: 2, k: 3 } }), 'redundancy.k'],
    ['k not a majority', wasiJob({ redundancy: { n: 4, k: 2 } }), 'redundancy.k'],
    ['n above 7', wasiJob({ redundancy: { n: 8, k: 5 } }), 'redundancy.n'],
    ['fewer peers than replicas', wasiJob({ redundancy: { n: 3, k: 2 }, requirements: { peers: 2 } }), 'requirements.peers'],
    ['a time limit too short', wasiJob({ timeLimitMs: 5 }), 'timeLimitMs'],
    ['a rank of 0 %', wasiJob({ requirements: { rank: { attribute: 'speed', topPercent: 0 } } }), 'requirements.rank.topPercent'],
    ['an input file escaping the work dir', wasiJob({ tasks: [{ ...task(), inputFiles: [{ path: 'a/../../etc', inline: '' }] }] }), 'tasks.0.inputFiles.0.path'],
    ['an absolute input path', wasiJob({ tasks: [{ ...task(), inputFiles: [{ path: '/etc/passwd', inline: '' }] }] }), 'tasks.0.inputFiles.0.path'],
    ['an input file with both hash and inline', wasiJob({ tasks: [{ ...task(), inputFiles: [{ path: 'a', inline: '', sha256: HASH }] }] }), 'tasks.0.inputFiles.0'],
    ['duplicate input paths', wasiJob({ tasks: [{ ...task(), inputFiles: [{ path: 'a', inline: '' }, { path: 'a', sha256: HASH }] }] }), 'tasks.0.inputFiles.1.path'],
    ['a task too large for one message', wasiJob({ tasks: [task(), { ...task(), stdin: 'x'.repeat(16_000), inputFiles: [{ path: 'a', inline: 'y'.repeat(32_000) }, { path: 'b', inline: 'z'.repeat(10_000) }] }] }), 'tasks.1'],
    ['an unknown field', wasiJob({ priority: 9 }), ''],
  ])('rejects %s with the path of the problem', (_name, raw, path) => {
    expect(badPath(raw)).toBe(path);
  });

  it('never throws on garbage', () => {
    for (const raw of [null, 42, 'job', [], { image: null }, { tasks: 'x' }]) expect(parseJobSpec(raw).ok).toBe(false);
  });
});
