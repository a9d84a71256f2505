/**
 * Bench-only frame counter: how many frames an idle node sends per tick, by protocol and message type. Real
 * NodeCores with the services every node runs (storage with an in-memory store, compute, cloud with fixed
 * attributes) are joined by the in-memory network of the unit tests (links open when a node asks to connect,
 * peers arrive one after another bootstrapped with the few already there), get `settleTicks` to form their
 * overlays, and then every frame a node hands its edge is decoded and counted for `countTicks` ticks.
 *
 * It counts what the browser's idle cost is made of (each frame costs the WebRTC thread, the network service, the
 * page's relay to the worker and the worker's decode), without a browser: the protocols and their cadence are the
 * same code, only the clock is faster (ticks of `tickMs`). Rates are per node tick actually run (a bench-only
 * service counts them), so timer drift on a loaded machine does not skew them.
 */
import type { PeerId } from '../src/core/ids.ts';
import { generateIdentity } from '../src/identity/identity.ts';
import type { EdgeCommands } from '../src/net/types.ts';
import { NodeCore } from '../src/runtime/node-core.ts';
import type { ServiceFactory } from '../src/runtime/node-service.ts';
import { cloudService } from '../src/runtime/services/cloud-service.ts';
import { computeService } from '../src/runtime/services/compute-service.ts';
import { storageService } from '../src/runtime/services/storage-service.ts';
import { MemoryChunkStore } from '../src/store/memory-chunk-store.ts';
import { MemoryRecordStore } from '../src/store/record-store.ts';
import { decodeFrame } from '../src/wire/frame.ts';
import { decodeEnvelope } from '../src/wire/envelope.ts';
import { CoreNetwork, stopNetworks } from '../tests/unit/support/core-network.ts';

export interface IdleFrameFigures {
  readonly peers: number;
  /** Node ticks run while counting, per node. */
  readonly nodeTicks: number;
  /** Frames sent per node per tick, by protocol (envelope `p`). */
  readonly byProtocol: ReadonlyMap<string, number>;
  /** The same by protocol and message type (`p:t`). */
  readonly byMessage: ReadonlyMap<string, number>;
  readonly total: number;
}

export async function idleFrames(peers = 8, settleTicks = 60, countTicks = 100, tickMs = 100): Promise<IdleFrameFigures> {
  const net = new CoreNetwork({ links: 'on-connect', delayMs: 1 });
  const counts = new Map<string, number>();
  let counting = false;
  let nodeTicks = 0;
  const tickCounter: ServiceFactory = () => ({ name: 'bench-ticks', snapshot: () => null, tick: () => { if (counting) nodeTicks++; } });
  const count = (frame: Uint8Array): void => {
    if (!counting) return;
    const decoded = decodeFrame(frame);
    const envelope = decoded.ok ? decodeEnvelope(decoded.value.header) : null;
    const p = envelope?.ok ? envelope.value.p : '(undecodable)';
    const m = envelope?.ok ? (envelope.value.m as { t?: unknown } | null) : null;
    const key = `${p}:${typeof m?.t === 'string' ? m.t : '-'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const counted = (edge: EdgeCommands): EdgeCommands => ({
    ...edge,
    send: (to, frame) => {
      const sent = edge.send(to, frame);
      if (sent) count(frame);
      return sent;
    },
  });
  const ids: PeerId[] = [];
  try {
    for (let i = 0; i < peers; i++) {
      const identity = await generateIdentity();
      const services = [
        storageService({ openStore: () => new MemoryChunkStore({ quotaBytes: Infinity }), openRecords: () => new MemoryRecordStore() }),
        computeService(),
        cloudService({ attributes: { cores: 2, memoryMB: 1024 * (1 + (i % 4)), cpuScore: 100 + i, storageMB: 500 } }),
        tickCounter,
      ];
      const core = net.add(new NodeCore({ identity, cloud: 'bench', tickMs, runner: () => null, services }));
      core.attachEdge(counted(net.edgeFor(core.peerId)));
      ids.push(core.peerId);
    }
    for (const [i, id] of ids.entries()) {
      const core = net.node(id);
      core.start();
      core.onBootstrap(ids.slice(Math.max(0, i - 3), i));
      await sleep(tickMs * 2);
    }
    await sleep(settleTicks * tickMs);
    counting = true;
    await sleep(countTicks * tickMs);
    counting = false;
    const ticks = nodeTicks / peers;
    const byMessage = new Map([...counts].map(([k, n]) => [k, n / nodeTicks] as const).sort((a, b) => b[1] - a[1]));
    const byProtocol = new Map<string, number>();
    for (const [k, v] of byMessage) {
      const p = k.slice(0, k.lastIndexOf(':'));
      byProtocol.set(p, (byProtocol.get(p) ?? 0) + v);
    }
    const total = [...byProtocol.values()].reduce((s, v) => s + v, 0);
    return { peers, nodeTicks: ticks, byProtocol: new Map([...byProtocol].sort((a, b) => b[1] - a[1])), byMessage, total };
  } finally {
    stopNetworks();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
