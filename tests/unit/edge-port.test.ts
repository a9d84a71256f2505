/**
 * Frame coalescing over the worker↔edge-page port (edge-port.ts), on a real MessageChannel: small frames of one
 * task turn cross as one port message with their buffers transferred, every frame arrives in the order it was
 * sent relative to frames and events around it, and a large frame is posted at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerId } from '../../src/core/ids.ts';
import type { EdgeCommands, EdgeEvents } from '../../src/net/types.ts';
import { COALESCE_MAX_FRAME_BYTES, edgeEventsToPort, portCommandsToEdge, RemoteEdge } from '../../src/runtime/edge-port.ts';

const A = 'a'.repeat(40) as PeerId;
const B = 'b'.repeat(40) as PeerId;
const bytes = (n: number, size = 8): Uint8Array => new Uint8Array(size).fill(n);
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

/** A channel whose port `counted` counts its postMessage calls. */
function channel(): { page: MessagePort; worker: MessagePort; posts: { page: number; worker: number } } {
  const c = new MessageChannel();
  channels.push(c);
  const posts = { page: 0, worker: 0 };
  for (const [port, side] of [[c.port1, 'page'], [c.port2, 'worker']] as const) {
    const post = port.postMessage.bind(port) as (msg: unknown, transfer?: Transferable[]) => void;
    port.postMessage = ((msg: unknown, transfer?: Transferable[]) => {
      posts[side]++;
      post(msg, transfer);
    }) as MessagePort['postMessage'];
  }
  return { page: c.port1, worker: c.port2, posts };
}

type Seen = [string, PeerId, number];

function recordingEvents(seen: Seen[]): EdgeEvents {
  return {
    onPeerUp: (peer) => seen.push(['up', peer, 0]),
    onPeerDown: (peer) => seen.push(['down', peer, 0]),
    onFrame: (from, frame) => seen.push(['frame', from, frame[0]! + frame.byteLength * 1000]),
    onBootstrap: () => {},
    onSignalingState: () => {},
    onLog: () => {},
  };
}

describe('edge port coalescing', () => {
  it('worker → page: the small frames of one turn cross as one message, in order, buffers transferred', async () => {
    const { page, worker, posts } = channel();
    const sent: Seen[] = [];
    const edge: EdgeCommands = {
      send: (to, frame) => { sent.push(['send', to, frame[0]! + frame.byteLength * 1000]); return true; },
      connect: (to) => { sent.push(['connect', to, 0]); },
      disconnect: () => {},
    } as EdgeCommands;
    portCommandsToEdge(page, edge);
    const remote = new RemoteEdge(worker, recordingEvents([]));
    edgeEventsToPort(page).onPeerUp(A);
    edgeEventsToPort(page).onPeerUp(B);
    await tick();
    const before = posts.worker;
    const frames = [bytes(1), bytes(2), bytes(3), bytes(4)];
    expect(remote.send(A, frames[0]!)).toBe(true);
    remote.send(B, frames[1]!);
    remote.send(A, frames[2]!);
    remote.send(B, frames[3]!);
    await tick();
    expect(posts.worker - before).toBe(1);
    expect(sent).toEqual([['send', A, 8001], ['send', B, 8002], ['send', A, 8003], ['send', B, 8004]]);
    for (const f of frames) expect(f.byteLength).toBe(0); // transferred, not copied

    // A large frame goes at once, after the small ones before it; a command keeps its place too.
    sent.length = 0;
    const mark = posts.worker;
    remote.send(A, bytes(5));
    const large = bytes(6, COALESCE_MAX_FRAME_BYTES + 1);
    remote.send(A, large);
    expect(posts.worker - mark).toBe(2); // no microtask needed for the large one
    remote.send(B, bytes(7));
    remote.connect(B);
    remote.send(B, bytes(8));
    await tick();
    expect(sent).toEqual([
      ['send', A, 8005], ['send', A, (COALESCE_MAX_FRAME_BYTES + 1) * 1000 + 6], ['send', B, 8007], ['connect', B, 0], ['send', B, 8008],
    ]);
    remote.close();
  });

  it('page → worker: received frames of one turn cross as one message, events keep their place', async () => {
    const { page, worker, posts } = channel();
    const seen: Seen[] = [];
    const remote = new RemoteEdge(worker, recordingEvents(seen));
    const events = edgeEventsToPort(page);
    events.onPeerUp(A);
    events.onFrame(A, bytes(1));
    events.onFrame(A, bytes(2));
    events.onPeerUp(B);
    events.onFrame(B, bytes(3));
    events.onFrame(A, bytes(4));
    events.onPeerDown(A, 'closed');
    await tick();
    expect(seen).toEqual([
      ['up', A, 0], ['frame', A, 8001], ['frame', A, 8002], ['up', B, 0], ['frame', B, 8003], ['frame', A, 8004], ['down', A, 0],
    ]);
    expect(posts.page).toBe(5); // up, [1, 2], up, [3, 4], down

    // Two frames that are views into one received buffer travel together without a duplicate transfer.
    seen.length = 0;
    const shared = new Uint8Array(16).fill(9);
    events.onFrame(B, shared.subarray(0, 8));
    events.onFrame(B, shared.subarray(8));
    await tick();
    expect(seen).toEqual([['frame', B, 8009], ['frame', B, 8009]]);
    remote.close();
  });
});
