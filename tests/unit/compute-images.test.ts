/**
 * Pure parts of the compute service: the `images` wire decoder, chunked image fetch with hash verification
 * between two fetchers wired back to back, the LRU image cache, output cutting and result digests.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/wire/frame.ts';
import { decodeEnvelope } from '../../src/wire/envelope.ts';
import { decodeImagesMessage, IMAGE_CHUNK_BYTES, MAX_IMAGE_BYTES } from '../../src/wire/images.ts';
import { ImageFetcher, ImageStore, sha256Hex } from '../../src/runtime/services/compute-images.ts';
import { corruptStdout, cutUtf8, toRunResult } from '../../src/runtime/services/compute-result.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const hash = 'f'.repeat(64);

describe('images wire', () => {
  it('accepts get, chunk with the right body, missing', () => {
    expect(decodeImagesMessage(1, { v: 1, t: 'get', sha256: hash, offset: 0 }, new Uint8Array()).ok).toBe(true);
    expect(decodeImagesMessage(1, { v: 1, t: 'chunk', sha256: hash, offset: 0, total: 3 }, new Uint8Array(3)).ok).toBe(true);
    expect(decodeImagesMessage(1, { v: 1, t: 'missing', sha256: hash }, new Uint8Array()).ok).toBe(true);
  });
  it('rejects with named codes', () => {
    const code = (v: number, m: unknown, body = new Uint8Array()) => {
      const d = decodeImagesMessage(v, m, body);
      return d.ok ? 'ok' : d.code;
    };
    expect(code(2, { v: 2, t: 'get', sha256: hash, offset: 0 })).toBe('E_IMAGES_VERSION');
    expect(code(1, { v: 1, t: 'steal', sha256: hash })).toBe('E_IMAGES_UNKNOWN_TYPE');
    expect(code(1, { v: 1, t: 'get', sha256: 'xyz', offset: 0 })).toBe('E_IMAGES_MALFORMED');
    expect(code(1, { v: 1, t: 'get', sha256: hash, offset: -1 })).toBe('E_IMAGES_MALFORMED');
    expect(code(1, { v: 1, t: 'get', sha256: hash, offset: 0, extra: 1 })).toBe('E_IMAGES_MALFORMED');
    expect(code(1, { v: 1, t: 'chunk', sha256: hash, offset: 0, total: 3 }, new Uint8Array(2))).toBe('E_IMAGES_BAD_BODY');
    expect(code(1, { v: 1, t: 'get', sha256: hash, offset: 0 }, new Uint8Array(1))).toBe('E_IMAGES_BAD_BODY');
    expect(code(1, null)).toBe('E_IMAGES_MALFORMED');
  });
});

/** Two fetchers whose frames go straight to each other (async), as over a link. */
function pair(holderStore: ImageStore, tamper?: (body: Uint8Array) => void) {
  const hostStore = new ImageStore();
  const fetchers: Record<string, ImageFetcher> = {};
  const deps = (self: string) => ({
    now: () => 0,
    connect: () => undefined,
    log: () => undefined,
    sendFrame: (to: string, frame: Uint8Array) => {
      const f = decodeFrame(frame);
      if (!f.ok) throw new Error(f.reason);
      const env = decodeEnvelope(f.value.header);
      if (!env.ok) throw new Error(env.reason);
      const body = f.value.body.slice();
      if (tamper && body.byteLength > 0) tamper(body);
      const msg = decodeImagesMessage(env.value.v, env.value.m, body);
      if (!msg.ok) throw new Error(msg.reason);
      setTimeout(() => fetchers[to]!.onMessage(self, msg.value, body), 0);
      return true;
    },
  });
  fetchers[A] = new ImageFetcher(holderStore, deps(A));
  fetchers[B] = new ImageFetcher(hostStore, deps(B));
  return { holder: fetchers[A]!, host: fetchers[B]!, hostStore };
}

describe('image fetch', () => {
  const bytes = Uint8Array.from({ length: IMAGE_CHUNK_BYTES * 2 + 123 }, (_, i) => (i * 7) & 255);

  it('fetches a multi-chunk image, verifies it and caches it; concurrent gets share one fetch', async () => {
    const sha = await sha256Hex(bytes);
    const store = new ImageStore();
    store.pin(sha, bytes);
    const { holder, host, hostStore } = pair(store);
    const [a, b] = await Promise.all([host.get({ sha256: sha, size: bytes.byteLength }, A), host.get({ sha256: sha, size: bytes.byteLength }, A)]);
    expect(await sha256Hex(a)).toBe(sha);
    expect(b).toBe(a);
    expect(host.fetched).toBe(1);
    expect(holder.served).toBe(1);
    expect(hostStore.get(sha)).toBe(a);
  });

  it('fails with E_IMAGE_MISMATCH when the bytes do not hash to the job hash, and E_IMAGE_UNAVAILABLE when missing', async () => {
    const sha = await sha256Hex(bytes);
    const store = new ImageStore();
    store.pin(sha, bytes);
    const tampered = pair(store, (body) => { body[0] = body[0]! ^ 1; });
    await expect(tampered.host.get({ sha256: sha, size: bytes.byteLength }, A)).rejects.toMatchObject({ code: 'E_IMAGE_MISMATCH' });
    expect(tampered.hostStore.get(sha)).toBeUndefined();
    const empty = pair(new ImageStore());
    await expect(empty.host.get({ sha256: sha, size: bytes.byteLength }, A)).rejects.toMatchObject({ code: 'E_IMAGE_UNAVAILABLE' });
    const wrongSize = pair(store);
    await expect(wrongSize.host.get({ sha256: sha, size: 10 }, A)).rejects.toMatchObject({ code: 'E_IMAGE_MISMATCH' });
  });

  it('fetches an image named by hash only (an x86 domain image), taking its size from the holder', async () => {
    const sha = await sha256Hex(bytes);
    const store = new ImageStore();
    store.pin(sha, bytes);
    const { host } = pair(store);
    const got = await host.get({ sha256: sha }, A);
    expect(got.byteLength).toBe(bytes.byteLength);
    expect(await sha256Hex(got)).toBe(sha);
    const tampered = pair(store, (body) => { body[1] = body[1]! ^ 1; });
    await expect(tampered.host.get({ sha256: sha }, A)).rejects.toMatchObject({ code: 'E_IMAGE_MISMATCH' });
  });

  it('bounds an image at MAX_IMAGE_BYTES on the wire', () => {
    const over = { v: 1, t: 'chunk', sha256: hash, offset: 0, total: MAX_IMAGE_BYTES + 1 };
    expect(decodeImagesMessage(1, over, new Uint8Array(IMAGE_CHUNK_BYTES)).ok).toBe(false);
    const snapshotSized = { v: 1, t: 'chunk', sha256: hash, offset: 16 * IMAGE_CHUNK_BYTES, total: 8_501_305 };
    expect(decodeImagesMessage(1, snapshotSized, new Uint8Array(8_501_305 - 16 * IMAGE_CHUNK_BYTES)).ok).toBe(true);
  });

  it('gives up on a silent holder after the idle timeout', async () => {
    let now = 0;
    const silent = new ImageFetcher(new ImageStore(), { now: () => now, connect: () => undefined, log: () => undefined, sendFrame: () => true });
    const waiting = silent.get({ sha256: hash, size: 100 }, A);
    now = 60_000;
    silent.tick();
    await expect(waiting).rejects.toMatchObject({ code: 'E_IMAGE_UNAVAILABLE' });
  });

  it('evicts the least recently used cached image beyond the budget, never a pinned one', () => {
    const store = new ImageStore(10);
    store.pin('p', new Uint8Array(50));
    store.cache('x', new Uint8Array(6));
    store.cache('y', new Uint8Array(4));
    expect(store.get('x')).toBeDefined();
    store.cache('z', new Uint8Array(4));
    expect(store.get('y')).toBeUndefined();
    expect(store.get('x')).toBeDefined();
    expect(store.get('p')).toBeDefined();
  });
});

describe('run results', () => {
  it('cuts UTF-8 output on a character boundary', () => {
    expect(cutUtf8('héllo', 2)).toBe('h');
    expect(cutUtf8('héllo', 3)).toBe('hé');
    expect(cutUtf8('abc', 10)).toBe('abc');
  });

  it('digests outcome and capped outputs only: equal for honest hosts, different for a liar', async () => {
    const limits = { stdoutBytes: 4, stderrBytes: 100 };
    const a = await toRunResult({ ok: true, exitCode: 0, stdout: 'abcdef', stderr: '', durationMs: 5 }, limits);
    const b = await toRunResult({ ok: true, exitCode: 0, stdout: 'abcdXY', stderr: '', durationMs: 9 }, limits);
    const lie = await toRunResult({ ok: true, exitCode: 0, stdout: 'abcdef', stderr: '', durationMs: 5 }, limits, (s) => corruptStdout(s, A));
    const failed = await toRunResult({ ok: false, code: 'E_TIME_LIMIT', message: 'killed', stdout: '', stderr: '', durationMs: 500 }, limits);
    expect(a.stdout).toBe('abcd');
    expect(a.digest).toBe(b.digest);
    expect(a.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(lie.digest).not.toBe(a.digest);
    expect(lie.stdout).toContain('forged');
    expect(failed).toMatchObject({ ok: false, code: 'E_TIME_LIMIT', exitCode: null });
  });
});
