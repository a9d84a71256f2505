/**
 * The storage service in real NodeCores (Chord slot, storage frames, replication, quota), linked by an in-memory
 * edge that delivers frames asynchronously: put a file from one node, lose that node, get the file by link from
 * another; lose two more nodes at once and still get it; refuse and route around corrupted chunks; refuse puts
 * past the lent quota.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import { NodeCore } from '../../src/runtime/node-core.ts';
import type { EdgeCommands } from '../../src/net/types.ts';
import { storageService } from '../../src/runtime/services/storage-service.ts';
import type { StorageSnapshot } from '../../src/runtime/services/storage-types.ts';
import { MemoryChunkStore } from '../../src/store/memory-chunk-store.ts';
import { sha256Hex } from '../../src/runtime/services/storage-crypto.ts';

class MemoryHub {
  readonly nodes = new Map<PeerId, NodeCore>();
  private readonly links = new Map<PeerId, Set<PeerId>>();

  edgeFor(self: PeerId): EdgeCommands {
    return {
      send: (to, frame) => {
        if (!this.links.get(self)?.has(to)) return false;
        const copy = frame.slice();
        setTimeout(() => this.nodes.get(to)?.onFrame(self, copy), 1);
        return true;
      },
      connect: (to) => setTimeout(() => this.link(self, to), 2),
      disconnect: (to) => this.unlink(self, to, 'disconnected'),
    };
  }

  private link(a: PeerId, b: PeerId): void {
    const na = this.nodes.get(a), nb = this.nodes.get(b);
    if (!na) return;
    if (!nb) return na.onPeerDown(b, 'unreachable');
    if (this.links.get(a)?.has(b)) return;
    for (const [x, y] of [[a, b], [b, a]] as const) {
      if (!this.links.has(x)) this.links.set(x, new Set());
      this.links.get(x)!.add(y);
    }
    na.onPeerUp(b);
    nb.onPeerUp(a);
  }

  private unlink(a: PeerId, b: PeerId, why: string): void {
    this.links.get(a)?.delete(b);
    this.links.get(b)?.delete(a);
    this.nodes.get(a)?.onPeerDown(b, why);
    this.nodes.get(b)?.onPeerDown(a, why);
  }

  kill(id: PeerId): void {
    const node = this.nodes.get(id);
    node?.stop();
    this.nodes.delete(id);
    for (const peer of [...(this.links.get(id) ?? [])]) this.unlink(id, peer, 'gone');
    this.links.delete(id);
  }
}

let hub: MemoryHub | null = null;
afterEach(() => {
  for (const id of [...(hub?.nodes.keys() ?? [])]) hub!.kill(id);
  hub = null;
});

async function cloud(n: number, quotaBytes = 1 << 30): Promise<{ hub: MemoryHub; ids: PeerId[] }> {
  hub = new MemoryHub();
  const ids: PeerId[] = [];
  for (let i = 0; i < n; i++) {
    const identity = await generateIdentity();
    const core = new NodeCore({
      identity, cloud: 'test', tickMs: 40, runner: () => null,
      services: [storageService({ openStore: () => new MemoryChunkStore({ quotaBytes: Infinity }), quotaBytes, requestTimeoutMs: 3000, fullPassTicks: 10 })],
    });
    hub.nodes.set(identity.peerId, core);
    core.attachEdge(hub.edgeFor(identity.peerId));
    ids.push(identity.peerId);
  }
  // Peers arrive one after another, each bootstrapped with peers already there (as the signaling server does).
  for (const [i, id] of ids.entries()) {
    const core = hub.nodes.get(id)!;
    core.start();
    core.onBootstrap(ids.slice(Math.max(0, i - 3), i));
    await new Promise((r) => setTimeout(r, 120));
  }
  await waitFor(() => oneRing(hub!, ids) && ids.every((id) => storageOf(hub!, id).successors.length >= Math.min(3, n - 1)), 20_000, 'ring formed');
  return { hub, ids };
}

/** Following first successors from any node visits every node once. */
function oneRing(h: MemoryHub, ids: PeerId[]): boolean {
  const seen = new Set<PeerId>();
  let at = ids[0]!;
  for (let i = 0; i < ids.length; i++) {
    seen.add(at);
    const next = storageOf(h, at).successors[0];
    if (!next) return false;
    at = next;
  }
  return at === ids[0] && seen.size === ids.length;
}

function storageOf(h: MemoryHub, id: PeerId): StorageSnapshot {
  return h.nodes.get(id)!.snapshot().services['storage'] as StorageSnapshot;
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function fileBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const cmd = (h: MemoryHub, id: PeerId, command: string, args: unknown): Promise<unknown> => h.nodes.get(id)!.command('storage', command, args);

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

  it('refuses corrupted chunks, logs the sender, and fetches them from another replica', async () => {
    const { hub: h, ids } = await cloud(5);
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

  it('rejects bad command arguments and bad links with named codes', async () => {
    const { hub: h, ids } = await cloud(3);
    await expect(cmd(h, ids[0]!, 'put', { name: '', bytes: 'nope' })).rejects.toThrow(/E_STORAGE_BAD_ARGS/);
    await expect(cmd(h, ids[0]!, 'get', { link: 'http://example.com' })).rejects.toThrow(/E_STORAGE_BAD_LINK/);
    await expect(cmd(h, ids[0]!, 'setQuota', { bytes: -1 })).rejects.toThrow(/E_STORAGE_BAD_ARGS/);
    await expect(cmd(h, ids[0]!, 'nope', {})).rejects.toThrow(/E_UNKNOWN_COMMAND/);
  });
});
