/**
 * The storage service in real NodeCores (Chord slot, storage frames, replication, quota), linked by an in-memory
 * edge that delivers frames asynchronously: put a file from one node, lose that node, get the file by link from
 * another; lose two more nodes at once and still get it; refuse and route around corrupted chunks; refuse puts
 * past the lent quota.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import { sha256Hex } from '../../src/runtime/services/storage-crypto.ts';
import { stopNetworks, storageCloud, storageCmd, storageOf, waitFor, type CoreNetwork } from './support/core-network.ts';
import { fileBytes } from './support/test-data.ts';

afterEach(stopNetworks);

async function cloud(n: number, quotaBytes = 1 << 30, settle?: 'true-successors'): Promise<{ hub: CoreNetwork; ids: PeerId[] }> {
  const { net, ids } = await storageCloud(n, { service: { quotaBytes, requestTimeoutMs: 3000, fullPassTicks: 10 }, ...(settle ? { settle } : {}) });
  return { hub: net, ids };
}

const cmd = storageCmd;

describe('storage service over a memory edge', () => {
  it('puts a file, loses the uploader and two more peers, and still gets it back intact by link', async () => {
    const { hub: h, ids } = await cloud(8);
    const bytes = fileBytes(3 * 1024 * 1024 + 1234, 7);
    const { link } = (await cmd(h, ids[0]!, 'put', { name: 'data.bin', bytes })) as { link: string };
    expect(link).toMatch(/^nephele:\/\/[0-9a-f]{64}#k=[A-Za-z0-9_-]{43}$/);
    const upload = storageOf(h, ids[0]!).uploads[0]!;
    expect(upload.state).toBe('done');
    expect(upload.minReplicas).toBe(3);
    const stored = ids.reduce((sum, id) => sum + storageOf(h, id).chunksHeld, 0);
    expect(stored).toBe(3 * 5); // 4 data chunks + manifest, 3 copies each

    h.kill(ids[0]!);
    const first = (await cmd(h, ids[1]!, 'get', { link })) as { name: string; bytes: Uint8Array };
    expect(first.name).toBe('data.bin');
    expect(await sha256Hex(first.bytes)).toBe(await sha256Hex(bytes));

    h.kill(ids[2]!);
    h.kill(ids[3]!);
    const second = (await cmd(h, ids[4]!, 'get', { link })) as { bytes: Uint8Array };
    expect(await sha256Hex(second.bytes)).toBe(await sha256Hex(bytes));
    // Re-replication restores three copies of every chunk on the survivors.
    await waitFor(() => ids.slice(4).reduce((s, id) => s + (h.nodes.has(id) ? storageOf(h, id).chunksHeld : 0), 0) + storageOf(h, ids[1]!).chunksHeld >= 15, 15_000, 're-replicated');
  });

  it('credits storage-hours only to peers that hold bytes, and only while they hold them', async () => {
    const { hub: h, ids } = await cloud(4);
    await cmd(h, ids[0]!, 'put', { name: 'held.bin', bytes: fileBytes(2 * 1024 * 1024, 3) });
    const holders = ids.filter((id) => storageOf(h, id).usedBytes > 0);
    expect(holders.length).toBeGreaterThanOrEqual(3);
    await waitFor(() => holders.every((id) => (storageOf(h, id).lentGiBHours ?? 0) > 0), 10_000, 'holders credited');
    for (const id of ids.filter((i) => !holders.includes(i))) expect(storageOf(h, id).lentGiBHours).toBe(0);
    // A holder lending ~1 MiB for a few seconds earns about 1/1024 GiB × seconds/3600 h: small, bounded, growing.
    const before = storageOf(h, holders[0]!).lentGiBHours!;
    await new Promise((r) => setTimeout(r, 1500));
    const after = storageOf(h, holders[0]!).lentGiBHours!;
    expect(after).toBeGreaterThan(before);
    expect(after).toBeLessThan((storageOf(h, holders[0]!).usedBytes / 2 ** 30) * (60 / 3600));
  });

  it('refuses corrupted chunks, logs the sender, and fetches them from another replica', async () => {
    // The true ring before the put: put on a ring still settling, the chunks could all land on the three getters
    // (each then reads locally and no corrupt holder is ever asked; CI saw that once under load).
    const { hub: h, ids } = await cloud(5, 1 << 30, 'true-successors');
    const bytes = fileBytes(8 * 1024 * 1024, 3);
    const { link } = (await cmd(h, ids[0]!, 'put', { name: 'x', bytes })) as { link: string };
    const corrupt = [ids[1]!, ids[2]!];
    for (const id of corrupt) await cmd(h, id, 'setFaults', { corruptServed: true });
    let refused = 0;
    for (const getter of [ids[0]!, ids[3]!, ids[4]!]) {
      const got = (await cmd(h, getter, 'get', { link })) as { bytes: Uint8Array };
      expect(await sha256Hex(got.bytes)).toBe(await sha256Hex(bytes));
      const snap = storageOf(h, getter);
      refused += snap.refusedChunks;
      for (const bad of snap.badSenders) expect(corrupt).toContain(bad);
    }
    // Each getter fetches most chunks remotely, the first holder rotating per chunk: corrupt holders get asked.
    expect(refused).toBeGreaterThan(0);
  });

  it('refuses a put past the lent quota with E_STORE_FULL and takes a new quota', async () => {
    const { hub: h, ids } = await cloud(4, 100_000);
    await expect(cmd(h, ids[0]!, 'put', { name: 'big', bytes: fileBytes(300_000, 1) })).rejects.toThrow(/E_STORE_FULL/);
    for (const id of ids) await cmd(h, id, 'setQuota', { bytes: 10_000_000 });
    expect(storageOf(h, ids[0]!).quotaBytes).toBe(10_000_000);
    const { link } = (await cmd(h, ids[0]!, 'put', { name: 'big', bytes: fileBytes(300_000, 1) })) as { link: string };
    expect(link).toMatch(/^nephele:\/\//);
  });

  it('times real lookups, and refuses to time them on a node that knows peers but has no ring successor yet', async () => {
    const { net: h, ids, join } = await storageCloud(3, { service: { requestTimeoutMs: 3000 } });
    const { ms } = (await cmd(h, ids[0]!, 'probeLookups', { count: 5 })) as { ms: number[] };
    expect(ms).toHaveLength(5);
    // A newcomer bootstrapped from the cloud: its view holds peers at once, its ring successor comes with its join.
    const newcomer = await join(ids.slice(0, 2));
    await expect(cmd(h, newcomer, 'probeLookups', { count: 5 })).rejects.toThrow(/E_STORAGE_NOT_ON_RING/);
    await waitFor(() => storageOf(h, newcomer).successors.length > 0, 10_000, 'the newcomer on the ring');
    expect(((await cmd(h, newcomer, 'probeLookups', { count: 5 })) as { ms: number[] }).ms).toHaveLength(5);
  });

  it('rejects bad command arguments and bad links with named codes', async () => {
    const { hub: h, ids } = await cloud(3);
    await expect(cmd(h, ids[0]!, 'put', { name: '', bytes: 'nope' })).rejects.toThrow(/E_STORAGE_BAD_ARGS/);
    await expect(cmd(h, ids[0]!, 'get', { link: 'http://example.com' })).rejects.toThrow(/E_STORAGE_BAD_LINK/);
    await expect(cmd(h, ids[0]!, 'setQuota', { bytes: -1 })).rejects.toThrow(/E_STORAGE_BAD_ARGS/);
    await expect(cmd(h, ids[0]!, 'nope', {})).rejects.toThrow(/E_UNKNOWN_COMMAND/);
  });
});
