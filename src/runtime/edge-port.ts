/**
 * The network edge over a MessagePort: the connection-holding page runs the real edge and forwards its events
 * to the node in the SharedWorker; the worker's `RemoteEdge` forwards commands back. Frames travel as
 * transferred ArrayBuffers (no copies, no comlink round trips on the data path). A received frame is usually a
 * view into the data channel message it came in (behind the chunk header, see net/fragmenter.ts): the page owns
 * that whole buffer, so it transfers it with the frame's offset and length instead of copying the frame out.
 * The worker's join marks (net/join-marks.ts) travel to the page too, so the page's timeline holds every stage.
 *
 * Coalescing: small frames sent (or received) in the same task turn leave as ONE port message, flushed on a
 * microtask, their buffers all transferred — a burst of protocol messages costs one postMessage, not one per
 * frame. Order is kept: any other message (a large frame, peer up/down, a command) first flushes what waits, so
 * frames never overtake each other or the events around them; a large frame is never held back.
 */
import type { PeerId } from '../core/ids.ts';
import type { EdgeCommands, EdgeEvents, SignalingState } from '../net/types.ts';
import { markJoin, onJoinMark } from '../net/join-marks.ts';

type ToPage =
  | { k: 'send'; to: PeerId; frame: Uint8Array }
  | { k: 'sends'; items: { to: PeerId; frame: Uint8Array }[] }
  | { k: 'connect'; to: PeerId }
  | { k: 'disconnect'; to: PeerId }
  | { k: 'mark'; stage: string; at: number };

type ToWorker =
  | { k: 'up'; peer: PeerId }
  | { k: 'down'; peer: PeerId; reason: string }
  | ({ k: 'frame' } & FrameIn)
  | { k: 'frames'; items: FrameIn[] }
  | { k: 'bootstrap'; peers: PeerId[] }
  | { k: 'signaling'; state: SignalingState }
  | { k: 'log'; level: 'info' | 'warn'; text: string };

interface FrameIn {
  from: PeerId;
  buffer: ArrayBuffer;
  offset: number;
  length: number;
}

/** Frames up to this size wait for the end of the task turn to share a port message; larger ones go at once. */
export const COALESCE_MAX_FRAME_BYTES = 16 * 1024;
/** Bytes of frames one port message gathers at most before it is flushed early. */
const COALESCE_MAX_BYTES = 256 * 1024;

function transferable(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/**
 * Posts messages in order, gathering small frames of one task turn into one message (`many`) flushed on a
 * microtask; every other message flushes the gathered ones first. Each buffer is transferred once, even if two
 * frames are views into the same buffer.
 */
class Coalescer<Item, Msg> {
  private items: Item[] = [];
  private buffers = new Set<ArrayBuffer>();
  private bytes = 0;
  private queued = false;

  constructor(
    private readonly port: MessagePort,
    private readonly one: (item: Item) => Msg,
    private readonly many: (items: Item[]) => Msg,
  ) {}

  /** A frame: gathered if small, else posted at once after what waits. */
  frame(item: Item, buffer: ArrayBuffer, length: number): void {
    if (length > COALESCE_MAX_FRAME_BYTES) {
      this.flush();
      this.port.postMessage(this.one(item), [buffer]);
      return;
    }
    this.items.push(item);
    this.buffers.add(buffer);
    this.bytes += length;
    if (this.bytes >= COALESCE_MAX_BYTES) {
      this.flush();
      return;
    }
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      this.flush();
    });
  }

  /** Any other message: after the frames gathered before it. */
  post(msg: Msg): void {
    this.flush();
    this.port.postMessage(msg);
  }

  flush(): void {
    if (this.items.length === 0) return;
    const items = this.items;
    const transfer = [...this.buffers];
    this.items = [];
    this.buffers = new Set();
    this.bytes = 0;
    this.port.postMessage(items.length === 1 ? this.one(items[0]!) : this.many(items), transfer);
  }
}

/** Page side: events of the real edge go to the worker. Returns the EdgeEvents to give the real edge. */
export function edgeEventsToPort(port: MessagePort): EdgeEvents {
  const out = new Coalescer<FrameIn, ToWorker>(port, (item) => ({ k: 'frame', ...item }), (items) => ({ k: 'frames', items }));
  return {
    onPeerUp: (peer) => out.post({ k: 'up', peer }),
    onPeerDown: (peer, reason) => out.post({ k: 'down', peer, reason }),
    onFrame: (from, frame) => {
      // The edge hands over frames it owns (EdgeEvents.onFrame), so their whole buffer may move to the worker.
      const owned = frame.buffer instanceof ArrayBuffer ? frame : frame.slice();
      const buffer = owned.buffer as ArrayBuffer;
      out.frame({ from, buffer, offset: owned.byteOffset, length: owned.byteLength }, buffer, owned.byteLength);
    },
    onBootstrap: (peers) => out.post({ k: 'bootstrap', peers: [...peers] }),
    onSignalingState: (state) => out.post({ k: 'signaling', state }),
    onLog: (level, text) => out.post({ k: 'log', level, text }),
  };
}

/** Page side: commands from the worker drive the real edge. */
export function portCommandsToEdge(port: MessagePort, edge: EdgeCommands): void {
  port.onmessage = (event: MessageEvent<ToPage>) => {
    const msg = event.data;
    if (msg.k === 'send') edge.send(msg.to, msg.frame);
    else if (msg.k === 'sends') for (const item of msg.items) edge.send(item.to, item.frame);
    else if (msg.k === 'connect') edge.connect(msg.to);
    else if (msg.k === 'disconnect') edge.disconnect(msg.to);
    else if (msg.k === 'mark') markJoin(msg.stage, msg.at);
  };
  port.start();
}

/** Worker side: the edge as the node sees it, living in another thread. */
export class RemoteEdge implements EdgeCommands {
  private readonly linked = new Set<PeerId>();
  private readonly stopMarks: () => void;
  private readonly out: Coalescer<{ to: PeerId; frame: Uint8Array }, ToPage>;

  constructor(
    private readonly port: MessagePort,
    events: EdgeEvents,
  ) {
    this.out = new Coalescer<{ to: PeerId; frame: Uint8Array }, ToPage>(port, (item) => ({ k: 'send', ...item }), (items) => ({ k: 'sends', items }));
    port.onmessage = (event: MessageEvent<ToWorker>) => {
      const msg = event.data;
      switch (msg.k) {
        case 'up': this.linked.add(msg.peer); events.onPeerUp(msg.peer); break;
        case 'down': this.linked.delete(msg.peer); events.onPeerDown(msg.peer, msg.reason); break;
        case 'frame': events.onFrame(msg.from, new Uint8Array(msg.buffer, msg.offset, msg.length)); break;
        case 'frames':
          for (const f of msg.items) events.onFrame(f.from, new Uint8Array(f.buffer, f.offset, f.length));
          break;
        case 'bootstrap': events.onBootstrap(msg.peers); break;
        case 'signaling': events.onSignalingState(msg.state); break;
        case 'log': events.onLog(msg.level, msg.text); break;
      }
    };
    port.start();
    this.stopMarks = onJoinMark((stage, at) => this.out.post({ k: 'mark', stage, at }));
  }

  send(to: PeerId, frame: Uint8Array): boolean {
    if (!this.linked.has(to)) return false;
    const owned = transferable(frame);
    this.out.frame({ to, frame: owned }, owned.buffer as ArrayBuffer, owned.byteLength);
    return true;
  }

  connect(to: PeerId): void {
    this.out.post({ k: 'connect', to });
  }

  disconnect(to: PeerId): void {
    this.out.post({ k: 'disconnect', to });
  }

  close(): void {
    this.out.flush();
    this.stopMarks();
    this.port.onmessage = null;
    this.port.close();
  }
}
