/**
 * The storage path's per-chunk trace (src/store/storage-trace.ts, read by bench/storage-trace.ts): off unless a
 * sink array is set on the global, and then the owner's marks of a put come in the order the path runs — its own
 * copy stored before all copies settled — with epoch times. Real ChunkServers of three peers, linked by calls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import { ChunkServer, type ChunkRequest } from '../../src/runtime/services/storage-chunk-server.ts';
import type { OutgoingRequest, Reply } from '../../src/runtime/services/storage-rpc.ts';
import { MemoryChunkStore } from '../../src/store/memory-chunk-store.ts';
import { chunkIdOf } from '../../src/store/chunk-id.ts';
import { traceMark, traceOn, type TraceMark } from '../../src/store/storage-trace.ts';

const peer = (n: number): PeerId => `${n}${'0'.repeat(39)}`;
const [A, B, C] = [1, 2, 3].map(peer) as [PeerId, PeerId, PeerId];
const g = globalThis as { __nepheleStorageTrace?: unknown };

function ring(): Map<PeerId, ChunkServer> {
  const servers = new Map<PeerId, ChunkServer>();
  const order = [A, B, C];
  for (const self of order) {
    const request = async (to: PeerId, msg: OutgoingRequest, body: Uint8Array): Promise<Reply> => {
      const answer = await servers.get(to)!.serve(self, msg as ChunkRequest, body);
      return { msg: { ...answer.msg, req: 0 } as Reply['msg'], body: answer.body ?? new Uint8Array(0) };
    };
    const successors = (): PeerId[] => [...order.slice(order.indexOf(self) + 1), ...order.slice(0, order.indexOf(self))];
    servers.set(self, new ChunkServer({
      self, store: new MemoryChunkStore({ quotaBytes: 1 << 24 }), replicas: 3, successors, request,
      stored: () => undefined, corruptServed: () => false,
    }));
  }
  return servers;
}

afterEach(() => {
  delete g.__nepheleStorageTrace;
});

describe('storage trace', () => {
  it('records nothing while no sink is set', async () => {
    expect(traceOn()).toBe(false);
    traceMark('p.sealed', 'ab'.repeat(32));
    const bytes = new Uint8Array(4096).fill(7);
    const id = await chunkIdOf(bytes);
    await ring().get(A)!.serve(C, { t: 'put', chunk: id, replicate: true }, bytes);
    expect(g.__nepheleStorageTrace).toBeUndefined();
  });

  it('marks a put at the owner in path order, with epoch times and the chunk id', async () => {
    const sink: TraceMark[] = [];
    g.__nepheleStorageTrace = sink;
    expect(traceOn()).toBe(true);
    const bytes = new Uint8Array(4096).fill(9);
    const id = await chunkIdOf(bytes);
    const before = Date.now();
    const answer = await ring().get(A)!.serve(C, { t: 'put', chunk: id, replicate: true }, bytes);
    expect(answer.msg).toMatchObject({ t: 'stored', holders: [A, B, C] });
    const names = sink.map((m) => m[1]);
    // A stores its own copy and B's (C, the requester, keeps its own), then the copies settle.
    expect(names.filter((n) => n === 's.stored')).toHaveLength(2);
    expect(names.lastIndexOf('s.copies')).toBeGreaterThan(names.indexOf('s.stored'));
    for (const [t, , chunk] of sink) {
      expect(chunk).toBe(id.slice(0, 12));
      expect(t).toBeGreaterThanOrEqual(before - 5);
      expect(t).toBeLessThanOrEqual(Date.now() + 5);
    }
  });
});
