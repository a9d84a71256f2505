/**
 * Mutable named objects (storage-named.ts, the paper's versioned replica chain) in real NodeCores with the storage
 * service, linked by an in-memory edge that delivers frames asynchronously: concurrent writers end with one linear
 * version history and every read returns the newest; a writer that dies holding the lock is broken after the
 * timeout and the next writer goes on; a replica that missed an update is never served.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import type { IndexedObject } from '../../src/runtime/services/storage-types.ts';
import { decodeStorageMessage } from '../../src/wire/storage.ts';
import { stopNetworks, storageCloud, storageCmd, storageOf, waitFor, type CoreNetwork } from './support/core-network.ts';

const LOCK_TIMEOUT_MS = 1500;

afterEach(stopNetworks);

async function cloud(n: number): Promise<{ h: CoreNetwork; ids: PeerId[] }> {
  const { net, ids } = await storageCloud(n, { service: { requestTimeoutMs: 3000, namedLockTimeoutMs: LOCK_TIMEOUT_MS }, settle: 'true-successors' });
  return { h: net, ids };
}

/** The node indexing `name` and its view of the object. */
function indexOf(h: CoreNetwork, name: string): { node: PeerId; entry: IndexedObject } {
  for (const id of h.nodes.keys()) {
    const entry = storageOf(h, id).named?.indexed.find((e) => e.name === name);
    if (entry) return { node: id, entry };
  }
  throw new Error(`nobody indexes ${name}`);
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const cmd = storageCmd;

interface Written { name: string; version: number; replicas: number }
interface ReadBack { name: string; version: number; bytes: Uint8Array; from: string }

describe('mutable named objects over a memory edge', () => {
  it('concurrent writers end with one linear version history, and every read returns the newest', async () => {
    const { h, ids } = await cloud(6);
    const writers = ids.slice(0, 4);
    const results = (await Promise.all(writers.map((id, i) => cmd(h, id, 'write', { name: 'shared/doc', bytes: text(`from writer ${i}`) })))) as Written[];
    const versions = results.map((r) => r.version).sort((a, b) => a - b);
    expect(versions).toEqual([1, 2, 3, 4]);
    for (const r of results) expect(r.replicas, JSON.stringify([results, indexOf(h, "shared/doc").entry.replicas])).toBe(3);

    const { entry } = indexOf(h, 'shared/doc');
    expect(entry.version).toBe(4);
    expect(entry.lockHolder).toBeNull();
    expect(entry.history.map((x) => x.version)).toEqual([1, 2, 3, 4]);
    expect(new Set(entry.history.map((x) => x.writer))).toEqual(new Set(writers));
    expect(entry.replicas.filter((r) => r.version === 4)).toHaveLength(3);

    const newestWriter = writers.indexOf(entry.history[3]!.writer as PeerId);
    for (const id of ids) {
      const got = (await cmd(h, id, 'read', { name: 'shared/doc' })) as ReadBack;
      expect(got.version).toBe(4);
      expect(new TextDecoder().decode(got.bytes)).toBe(`from writer ${newestWriter}`);
    }
    // A second round from one node continues the same history.
    const again = (await cmd(h, ids[5]!, 'write', { name: 'shared/doc', bytes: text('fifth') })) as Written;
    expect(again.version).toBe(5);
    await expect(cmd(h, ids[0]!, 'read', { name: 'never/written' })).rejects.toThrow(/E_NAMED_NOT_FOUND/);
  });

  it('breaks the lock of a writer that died holding it, after the timeout, and the next writer goes on', async () => {
    const { h, ids } = await cloud(6);
    await cmd(h, ids[0]!, 'write', { name: 'lock/me', bytes: text('v1') });
    const first = indexOf(h, 'lock/me');
    const holders = new Set(first.entry.replicas.map((r) => r.holder));
    const [dying, next] = ids.filter((id) => id !== first.node && !holders.has(id)) as [PeerId, PeerId];
    expect(next).toBeDefined();

    await cmd(h, dying, 'setFaults', { stallNamedWrites: true });
    void cmd(h, dying, 'write', { name: 'lock/me', bytes: text('never committed') }).catch(() => undefined);
    await waitFor(() => indexOf(h, 'lock/me').entry.lockHolder === dying, 5000, 'the dying writer holds the lock');
    h.kill(dying);

    const started = Date.now();
    const written = (await cmd(h, next, 'write', { name: 'lock/me', bytes: text('v2 after the break') })) as Written;
    expect(Date.now() - started).toBeGreaterThanOrEqual(LOCK_TIMEOUT_MS - 300);
    expect(written.version).toBe(2);
    const after = indexOf(h, 'lock/me').entry;
    expect(after.history.map((x) => [x.version, x.writer])).toEqual([[1, ids[0]], [2, next]]);
    const got = (await cmd(h, first.node, 'read', { name: 'lock/me' })) as ReadBack;
    expect([got.version, new TextDecoder().decode(got.bytes)]).toEqual([2, 'v2 after the break']);
  });

  it('never serves a replica that missed an update, and brings it up to date on the next write', async () => {
    const { h, ids } = await cloud(6);
    await cmd(h, ids[0]!, 'write', { name: 'stale/one', bytes: text('v1') });
    const { node: indexNode, entry } = indexOf(h, 'stale/one');
    const lagging = entry.replicas.map((r) => r.holder as PeerId).find((p) => p !== indexNode)!;
    await cmd(h, lagging, 'setFaults', { ignoreNamedSyncs: true });

    // Written by the index node, whose nearest replica is itself: the other two holders are asked to sync.
    const v2 = (await cmd(h, indexNode, 'write', { name: 'stale/one', bytes: text('v2') })) as Written;
    expect(v2).toEqual({ name: 'stale/one', version: 2, replicas: 2 });
    expect(storageOf(h, lagging).named?.held.find((x) => x.name === 'stale/one')?.version).toBe(1);
    const pointers = indexOf(h, 'stale/one').entry.replicas;
    expect(pointers.find((r) => r.holder === lagging)?.version).toBe(1);

    for (const id of ids) {
      const got = (await cmd(h, id, 'read', { name: 'stale/one' })) as ReadBack;
      expect(got.version).toBe(2);
      expect(new TextDecoder().decode(got.bytes)).toBe('v2');
      expect(got.from).not.toBe(lagging);
    }

    // The nearest replica (lowest measured round trip) is the reader itself when it holds the newest version.
    expect(((await cmd(h, indexNode, 'read', { name: 'stale/one' })) as ReadBack).from).toBe(indexNode);

    await cmd(h, lagging, 'setFaults', { ignoreNamedSyncs: false });
    const v3 = (await cmd(h, ids[1]!, 'write', { name: 'stale/one', bytes: text('v3') })) as Written;
    expect(v3.version).toBe(3);
    expect(v3.replicas).toBe(3);
    expect(storageOf(h, lagging).named?.held.find((x) => x.name === 'stale/one')?.version).toBe(3);
  });

  it('validates named-object messages at the wire boundary', () => {
    const key = 'a'.repeat(64);
    expect(decodeStorageMessage({ t: 'nput', req: 1, key, name: 'x', version: 2 }, new Uint8Array(10)).ok).toBe(true);
    expect(decodeStorageMessage({ t: 'nobject', req: 1, key, name: 'x', version: 2 }, new Uint8Array(0)).ok).toBe(true);
    const codeOf = (m: unknown, body = new Uint8Array(0)): string | null => {
      const d = decodeStorageMessage(m, body);
      return d.ok ? null : d.code;
    };
    expect(codeOf({ t: 'nlock', req: 1, key, name: 'x' }, new Uint8Array(1))).toBe('E_STORAGE_UNEXPECTED_BODY');
    expect(codeOf({ t: 'nlock', req: 1, key: 'A'.repeat(64), name: 'x' })).toBe('E_STORAGE_MALFORMED');
    expect(codeOf({ t: 'nget', req: 1, key, version: -1 })).toBe('E_STORAGE_MALFORMED');
    expect(codeOf({ t: 'nsync', req: 1, key, name: 'x', version: 1, from: 'nope' })).toBe('E_STORAGE_MALFORMED');
    expect(codeOf({ t: 'nlockres', req: 1, key, granted: true, version: 0, holders: [], extra: 1 })).toBe('E_STORAGE_MALFORMED');
  });

  it('rejects bad write and read arguments with named codes', async () => {
    const { h, ids } = await cloud(3);
    await expect(cmd(h, ids[0]!, 'write', { name: '', bytes: text('x') })).rejects.toThrow(/E_STORAGE_BAD_ARGS/);
    await expect(cmd(h, ids[0]!, 'write', { name: 'big', bytes: new Uint8Array(1024 * 1024 + 1) })).rejects.toThrow(/E_STORAGE_BAD_ARGS/);
    await expect(cmd(h, ids[0]!, 'read', { name: 7 })).rejects.toThrow(/E_STORAGE_BAD_ARGS/);
  });
});
