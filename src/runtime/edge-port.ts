/**
 * The network edge over a MessagePort: the connection-holding page runs the real edge and forwards its events
 * to the node in the SharedWorker; the worker's `RemoteEdge` forwards commands back. Frames travel as
 * transferred ArrayBuffers (no copies, no comlink round trips on the data path). A received frame is usually a
 * view into the data channel message it came in (behind the chunk header, see net/fragmenter.ts): the page owns
 * that whole buffer, so it transfers it with the frame's offset and length instead of copying the frame out.
 * The worker's join marks (net/join-marks.ts) travel to the page too, so the page's timeline holds every stage.
 */
import type { PeerId } from '../core/ids.ts';
import type { EdgeCommands, EdgeEvents, SignalingState } from '../net/types.ts';
import { markJoin, onJoinMark } from '../net/join-marks.ts';

type ToPage =
  | { k: 'send'; to: PeerId; frame: Uint8Array }
  | { k: 'connect'; to: PeerId }
  | { k: 'disconnect'; to: PeerId }
  | { k: 'mark'; stage: string; at: number };

type ToWorker =
  | { k: 'up'; peer: PeerId }
  | { k: 'down'; peer: PeerId; reason: string }
  | { k: 'frame'; from: PeerId; buffer: ArrayBuffer; offset: number; length: number }
  | { k: 'bootstrap'; peers: PeerId[] }
  | { k: 'signaling'; state: SignalingState }
  | { k: 'log'; level: 'info' | 'warn'; text: string };

function transferable(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/** Page side: events of the real edge go to the worker. Returns the EdgeEvents to give the real edge. */
export function edgeEventsToPort(port: MessagePort): EdgeEvents {
  const post = (msg: ToWorker, transfer: Transferable[] = []): void => port.postMessage(msg, transfer);
  return {
    onPeerUp: (peer) => post({ k: 'up', peer }),
    onPeerDown: (peer, reason) => post({ k: 'down', peer, reason }),
    onFrame: (from, frame) => {
      // The edge hands over frames it owns (EdgeEvents.onFrame), so their whole buffer may move to the worker.
      const owned = frame.buffer instanceof ArrayBuffer ? frame : frame.slice();
      const buffer = owned.buffer as ArrayBuffer;
      post({ k: 'frame', from, buffer, offset: owned.byteOffset, length: owned.byteLength }, [buffer]);
    },
    onBootstrap: (peers) => post({ k: 'bootstrap', peers: [...peers] }),
    onSignalingState: (state) => post({ k: 'signaling', state }),
    onLog: (level, text) => post({ k: 'log', level, text }),
  };
}

/** Page side: commands from the worker drive the real edge. */
export function portCommandsToEdge(port: MessagePort, edge: EdgeCommands): void {
  port.onmessage = (event: MessageEvent<ToPage>) => {
    const msg = event.data;
    if (msg.k === 'send') edge.send(msg.to, msg.frame);
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

  constructor(
    private readonly port: MessagePort,
    events: EdgeEvents,
  ) {
    port.onmessage = (event: MessageEvent<ToWorker>) => {
      const msg = event.data;
      switch (msg.k) {
        case 'up': this.linked.add(msg.peer); events.onPeerUp(msg.peer); break;
        case 'down': this.linked.delete(msg.peer); events.onPeerDown(msg.peer, msg.reason); break;
        case 'frame': events.onFrame(msg.from, new Uint8Array(msg.buffer, msg.offset, msg.length)); break;
        case 'bootstrap': events.onBootstrap(msg.peers); break;
        case 'signaling': events.onSignalingState(msg.state); break;
        case 'log': events.onLog(msg.level, msg.text); break;
      }
    };
    port.start();
    this.stopMarks = onJoinMark((stage, at) => this.port.postMessage({ k: 'mark', stage, at } satisfies ToPage));
  }

  send(to: PeerId, frame: Uint8Array): boolean {
    if (!this.linked.has(to)) return false;
    const owned = transferable(frame);
    this.port.postMessage({ k: 'send', to, frame: owned } satisfies ToPage, [owned.buffer as ArrayBuffer]);
    return true;
  }

  connect(to: PeerId): void {
    this.port.postMessage({ k: 'connect', to } satisfies ToPage);
  }

  disconnect(to: PeerId): void {
    this.port.postMessage({ k: 'disconnect', to } satisfies ToPage);
  }

  close(): void {
    this.stopMarks();
    this.port.onmessage = null;
    this.port.close();
  }
}
