/**
 * Storage links of a job's images on the wire (job-model.ts `imageLinksSchema`, carried by the scheduler's
 * announce and lease): optional, validated and size-limited; a bad one is rejected with E_BAD_JOB.
 */
import { describe, expect, it } from 'vitest';
import { decodeSchedulerMessage } from '../../src/wire/scheduler.ts';
import { MAX_IMAGE_LINKS, parseJobSpec } from '../../src/protocols/scheduler/job-model.ts';

const sha = (i: number): string => i.toString(16).padStart(64, '0');
const link = (i: number): string => `nephele://${sha(i + 1000)}#k=${'A'.repeat(43)}`;

function announce(image: Record<string, unknown>): unknown {
  return {
    v: 2, t: 'announce', jobId: '0123456789abcdef', submitter: 'a'.repeat(40), round: 0, hops: 2,
    image, requirements: {}, timeLimitMs: 1000, taskCount: 1,
  };
}

const code = (m: unknown): string => {
  const d = decodeSchedulerMessage(m);
  return d.ok ? 'ok' : d.code;
};

describe('image links on the wire', () => {
  it('accepts announcements without links (older submitters) and with links, for WASI and x86 images', () => {
    expect(code(announce({ kind: 'wasi', sha256: sha(1), size: 100 }))).toBe('ok');
    expect(code(announce({ kind: 'wasi', sha256: sha(1), size: 100, links: { [sha(1)]: link(1) } }))).toBe('ok');
    const domain = { memoryMB: 32, boot: 'snapshot', snapshot: sha(2) };
    expect(code(announce({ kind: 'x86', domain, links: { [sha(2)]: link(2) } }))).toBe('ok');
  });

  it('rejects malformed links, keys that are not hashes, and too many links', () => {
    const wasi = (links: unknown) => announce({ kind: 'wasi', sha256: sha(1), size: 100, links });
    expect(code(wasi({ [sha(1)]: 'https://example.com/module.wasm' }))).toBe('E_BAD_JOB');
    expect(code(wasi({ [sha(1)]: `${link(1)}${'A'.repeat(200)}` }))).toBe('E_BAD_JOB');
    expect(code(wasi({ 'not-a-hash': link(1) }))).toBe('E_BAD_JOB');
    const many = Object.fromEntries(Array.from({ length: MAX_IMAGE_LINKS + 1 }, (_, i) => [sha(i), link(i)]));
    expect(code(wasi(many))).toBe('E_BAD_JOB');
    const enough = Object.fromEntries(Array.from({ length: MAX_IMAGE_LINKS }, (_, i) => [sha(i), link(i)]));
    expect(code(wasi(enough))).toBe('ok');
  });

  it('a parsed job keeps its image links for the scheduler to announce and lease', () => {
    const parsed = parseJobSpec({
      image: { kind: 'wasi', sha256: sha(1), size: 100, links: { [sha(1)]: link(1) } },
      tasks: [{ args: [], env: {}, stdin: '' }], timeLimitMs: 1000,
    });
    expect(parsed.ok && parsed.value.image.links).toEqual({ [sha(1)]: link(1) });
  });
});
