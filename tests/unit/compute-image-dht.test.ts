/**
 * Guest images through the DHT, between real NodeCores running the storage and compute services on the in-memory
 * network (tests/unit/support/core-network.ts), with real WASI runs: the submitter stores its module in storage
 * and the job carries the link; a host gets the module from the DHT while the submitter refuses every image
 * request, a second task uses what the host kept, a restarted host (same chunk stores) still has the image; with
 * a serving submitter a small module still comes from it while an input file named only by hash comes from the
 * DHT first; bytes from the DHT that do not hash to the job's sha256 are refused.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import { generateIdentity, type Identity } from '../../src/identity/identity.ts';
import { runWasiTaskInNode } from '../../src/compute/node-sandbox.ts';
import { NodeCore } from '../../src/runtime/node-core.ts';
import { computeService } from '../../src/runtime/services/compute-service.ts';
import { storageService } from '../../src/runtime/services/storage-service.ts';
import type { ComputeSnapshot, ComputeTaskResult } from '../../src/runtime/services/compute-types.ts';
import { getImageFromDht } from '../../src/runtime/services/compute-image-dht.ts';
import { sha256Hex } from '../../src/runtime/services/compute-images.ts';
import { MemoryChunkStore } from '../../src/store/memory-chunk-store.ts';
import { MemoryRecordStore } from '../../src/store/record-store.ts';
import { CoreNetwork, oneRing, stopNetworks, waitFor } from './support/core-network.ts';

const hello = new Uint8Array(readFileSync('public/examples/hello.wasm'));
const wc = new Uint8Array(readFileSync('public/examples/wc.wasm'));

afterEach(stopNetworks);

interface Cloud {
  readonly net: CoreNetwork;
  readonly ids: PeerId[];
  /** Image caches by peer, kept across a restart. */
  readonly imageStores: Map<PeerId, MemoryChunkStore>;
  restart(id: PeerId): Promise<NodeCore>;
}

/**
 * n nodes with storage and compute; node 0 submits (and refuses image requests unless `serve`), only node 1
 * runs tasks (so the test knows which host fetched what). Resolves once the storage ring has formed.
 */
async function cloud(n: number, serve = false): Promise<Cloud> {
  const net = new CoreNetwork({ links: 'on-connect', delayMs: 1 });
  const chunks = new Map<PeerId, MemoryChunkStore>();
  const records = new Map<PeerId, MemoryRecordStore>();
  const imageStores = new Map<PeerId, MemoryChunkStore>();
  const identities: Identity[] = [];
  const of = <T>(map: Map<PeerId, T>, id: PeerId, make: () => T): T => map.get(id) ?? (map.set(id, make()), map.get(id)!);
  const memory = () => new MemoryChunkStore({ quotaBytes: Infinity });
  const make = (identity: Identity, index: number): NodeCore => net.add(new NodeCore({
    identity, cloud: 'test', tickMs: 40,
    runner: () => (index === 1 ? { run: runWasiTaskInNode } : null),
    services: [
      storageService({ requestTimeoutMs: 3000, openStore: (self) => of(chunks, self, memory), openRecords: (self) => of(records, self, () => new MemoryRecordStore()) }),
      computeService({ imageCache: (self) => of(imageStores, self, memory), serveImages: serve || index !== 0 }),
    ],
  }));
  for (let i = 0; i < n; i++) identities.push(await generateIdentity());
  const ids = identities.map((x) => x.peerId);
  for (const [i, identity] of identities.entries()) {
    const core = make(identity, i);
    core.start();
    core.onBootstrap(ids.slice(Math.max(0, i - 3), i));
    await new Promise((r) => setTimeout(r, 120));
  }
  await waitFor(() => oneRing(net, ids), 20_000, 'ring formed');
  const restart = async (id: PeerId): Promise<NodeCore> => {
    const index = ids.indexOf(id);
    net.kill(id);
    const core = make(identities[index]!, index);
    core.start();
    core.onBootstrap(ids.filter((x) => x !== id));
    return core;
  };
  return { net, ids, imageStores, restart };
}

const compute = (core: NodeCore): ComputeSnapshot => core.snapshot().services.compute as ComputeSnapshot;

function job(args: string[]): Record<string, unknown> {
  return { name: 'hello', tasks: [{ args, env: {}, stdin: '' }], timeLimitMs: 10_000 };
}

async function runJob(submitter: NodeCore, args: string[]): Promise<ComputeTaskResult> {
  const { jobId } = (await submitter.command('compute', 'submit', { spec: job(args), image: hello })) as { jobId: string };
  await waitFor(() => compute(submitter).jobs.find((j) => j.jobId === jobId)?.state === 'done', 40_000, `job ${args.join(' ')} done`);
  const [result] = (await submitter.command('compute', 'results', { jobId })) as ComputeTaskResult[];
  return result!;
}

describe('compute images through the DHT', () => {
  it('a host gets the module from the DHT while the submitter refuses, then reuses it; a restart keeps it', async () => {
    const { net, ids, imageStores, restart } = await cloud(4);
    const submitter = net.node(ids[0]!);
    const sha = await sha256Hex(hello);

    const first = await runJob(submitter, ['first']);
    expect(first.status).toBe('accepted');
    expect(first.stdout).toContain('first');
    expect(first.agreeing).toEqual([ids[1]]);
    expect(compute(submitter).stats.imagesServed).toBe(0);
    const host = compute(net.node(ids[1]!)).stats;
    expect(host.imagesFrom).toEqual({ cache: 0, dht: 1, submitter: 0 });
    // The fetched module persists in the host's image cache (written just after the fetch).
    let kept = false;
    for (let i = 0; i < 40 && !kept; i++) kept = await imageStores.get(ids[1]!)!.has(sha) || (await new Promise((r) => setTimeout(r, 50)), false);
    expect(kept).toBe(true);

    // A second task of the same image: no new fetch.
    const second = await runJob(submitter, ['second']);
    expect(second.stdout).toContain('second');
    expect(compute(net.node(ids[1]!)).stats.imagesFetched).toBe(1);

    // The host restarts with the same stores: the image comes from its persistent cache, not the network.
    const again = await restart(ids[1]!);
    await waitFor(() => compute(again).canHost && oneRing(net, ids), 20_000, 'host back on the ring');
    const third = await runJob(submitter, ['third']);
    expect(third.stdout).toContain('third');
    expect(third.agreeing).toEqual([ids[1]]);
    expect(compute(again).stats.imagesFrom).toEqual({ cache: 1, dht: 0, submitter: 0 });
    expect(compute(again).stats.imagesFetched).toBe(0);
  }, 120_000);

  it('a small module comes from a serving submitter, an input file named only by hash from the DHT first', async () => {
    const { net, ids } = await cloud(4, true);
    const submitter = net.node(ids[0]!);
    const big = new TextEncoder().encode('alpha beta\n'.repeat(5000));
    const spec = {
      name: 'wc', timeLimitMs: 10_000,
      tasks: [{ args: ['in/big.txt'], env: {}, stdin: '', inputFiles: [{ path: 'in/big.txt', sha256: await sha256Hex(big) }] }],
    };
    const { jobId } = (await submitter.command('compute', 'submit', { spec, image: wc, files: [big] })) as { jobId: string };
    await waitFor(() => compute(submitter).jobs.find((j) => j.jobId === jobId)?.state === 'done', 40_000, 'wc job done');
    const [result] = (await submitter.command('compute', 'results', { jobId })) as ComputeTaskResult[];
    expect(result!.stdout).toBe(`5000 10000 ${big.byteLength} in/big.txt\n`);
    expect(compute(net.node(ids[1]!)).stats.imagesFrom).toEqual({ cache: 0, dht: 1, submitter: 1 });
    expect(compute(submitter).stats.imagesServed).toBe(1);
  }, 60_000);

  it('refuses bytes from the DHT that do not hash to the image', async () => {
    const { net, ids } = await cloud(3);
    const node = net.node(ids[2]!);
    const other = new TextEncoder().encode('not the module at all');
    const { link } = (await node.command('storage', 'put', { name: 'other', bytes: other })) as { link: string };
    const command = (service: string, cmd: string, args: unknown) => node.command(service, cmd, args);
    const sha = await sha256Hex(hello);
    await expect(getImageFromDht(command, link, { sha256: sha })).rejects.toMatchObject({ code: 'E_IMAGE_MISMATCH' });
    await expect(getImageFromDht(command, link, { sha256: sha, size: hello.byteLength })).rejects.toMatchObject({ code: 'E_IMAGE_MISMATCH' });
    // The right bytes under their own hash pass.
    expect(await getImageFromDht(command, link, { sha256: await sha256Hex(other) })).toEqual(other);
  }, 60_000);
});
