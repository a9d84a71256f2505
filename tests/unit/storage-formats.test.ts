/** Pure parts of storage: the wire decoder, links, manifests, sealing and the adjustable quota. */
import { describe, expect, it } from 'vitest';
import { decodeStorageMessage, MAX_CHUNK_BODY } from '../../src/wire/storage.ts';
import { formatLink, parseLink } from '../../src/runtime/services/storage-link.ts';
import { CHUNK_BYTES, decodeManifest, encodeManifest, sliceFile } from '../../src/runtime/services/storage-manifest.ts';
import { newFileKey, open, seal } from '../../src/runtime/services/storage-crypto.ts';
import { QuotaChunkStore } from '../../src/runtime/services/storage-quota.ts';
import { MemoryChunkStore } from '../../src/store/memory-chunk-store.ts';
import { chunkIdOf } from '../../src/store/chunk-id.ts';

const ID = 'a'.repeat(64);

describe('storage wire', () => {
  it('accepts well-formed messages and rejects others with named codes', () => {
    expect(decodeStorageMessage({ t: 'get', req: 1, chunk: ID }, new Uint8Array(0)).ok).toBe(true);
    expect(decodeStorageMessage({ t: 'put', req: 1, chunk: ID, replicate: true }, new Uint8Array(10)).ok).toBe(true);
    const bad = decodeStorageMessage({ t: 'get', req: 1, chunk: 'xyz' }, new Uint8Array(0));
    expect(bad.ok ? '' : bad.code).toBe('E_STORAGE_MALFORMED');
    const body = decodeStorageMessage({ t: 'get', req: 1, chunk: ID }, new Uint8Array(3));
    expect(body.ok ? '' : body.code).toBe('E_STORAGE_UNEXPECTED_BODY');
    const big = decodeStorageMessage({ t: 'put', req: 1, chunk: ID, replicate: false }, new Uint8Array(MAX_CHUNK_BODY + 1));
    expect(big.ok ? '' : big.code).toBe('E_STORAGE_BODY_TOO_LARGE');
    const extra = decodeStorageMessage({ t: 'has', req: 1, chunks: [], sneaky: 1 }, new Uint8Array(0));
    expect(extra.ok).toBe(false);
  });
});

describe('links, manifests and sealing', () => {
  it('round-trips a link and refuses malformed ones', () => {
    const key = newFileKey();
    const link = formatLink({ manifestId: ID, key });
    const back = parseLink(link);
    expect(back.manifestId).toBe(ID);
    expect([...back.key]).toEqual([...key]);
    expect(() => parseLink(`nephele://${ID}#k=short`)).toThrow(/E_STORAGE_BAD_LINK/);
    expect(() => parseLink('nephele://abc#k=AAAA')).toThrow(/E_STORAGE_BAD_LINK/);
  });

  it('seals so that only the key opens, and altered bytes fail to open', async () => {
    const key = newFileKey();
    const sealed = await seal(key, new TextEncoder().encode('hello'));
    expect(new TextDecoder().decode(await open(key, sealed))).toBe('hello');
    await expect(open(newFileKey(), sealed)).rejects.toThrow(/E_STORAGE_DECRYPT/);
    sealed[sealed.length - 1]! ^= 1;
    await expect(open(key, sealed)).rejects.toThrow(/E_STORAGE_DECRYPT/);
  });

  it('slices files into 1 MiB chunks and checks manifest consistency', () => {
    expect(sliceFile(new Uint8Array(CHUNK_BYTES * 2 + 5)).map((s) => s.byteLength)).toEqual([CHUNK_BYTES, CHUNK_BYTES, 5]);
    expect(sliceFile(new Uint8Array(0)).length).toBe(1);
    const m = { v: 1 as const, name: 'f', size: 7, sha256: ID, chunks: [{ id: ID, size: 7 }] };
    expect(decodeManifest(encodeManifest(m))).toEqual(m);
    expect(() => decodeManifest(encodeManifest({ ...m, size: 8 }))).toThrow(/E_STORAGE_BAD_MANIFEST/);
    expect(() => decodeManifest(new TextEncoder().encode('{'))).toThrow(/E_STORAGE_BAD_MANIFEST/);
  });
});

describe('quota', () => {
  it('refuses puts past the lent space with E_STORE_FULL and follows a new quota', async () => {
    const store = new QuotaChunkStore(new MemoryChunkStore({ quotaBytes: Infinity }), 100);
    const a = new Uint8Array(80).fill(1), b = new Uint8Array(80).fill(2);
    await store.put(await chunkIdOf(a), a);
    await expect(store.put(await chunkIdOf(b), b)).rejects.toThrow(/E_STORE_FULL/);
    store.setQuota(200);
    await store.put(await chunkIdOf(b), b);
    expect(await store.usage()).toEqual({ bytes: 160, chunks: 2, quotaBytes: 200 });
    expect(() => store.setQuota(-1)).toThrow(/E_STORE_BAD_QUOTA/);
  });
});
