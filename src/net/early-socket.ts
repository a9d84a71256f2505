/**
 * A signaling socket opened before the edge exists. A page learns its node's identity (SharedWorker start,
 * IndexedDB) only after a few hundred ms; the socket's TCP/WebSocket handshake and the server's `hello` need no
 * identity, so the page opens the socket at once and the edge adopts it. Until then its events are kept, and
 * handed to the adopter's handlers right after it sets them (SignalingClient sets them in the same turn as it
 * constructs the socket). The first socket the edge asks for is the early one; reconnects get fresh sockets.
 */
import type { SocketFactory, SocketLike } from './platform.ts';
import { markJoin } from './join-marks.ts';

type Handler = ((event: never) => void) | null;
type EventName = 'onopen' | 'onmessage' | 'onclose' | 'onerror';

class AdoptedSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;

  constructor(private readonly socket: SocketLike, kept: [EventName, unknown][]) {
    const forward = (name: EventName) => (event: unknown): void => (this[name] as Handler)?.(event as never);
    socket.onopen = forward('onopen');
    socket.onmessage = forward('onmessage') as SocketLike['onmessage'];
    socket.onclose = forward('onclose');
    socket.onerror = forward('onerror');
    queueMicrotask(() => {
      for (const [name, event] of kept) (this[name] as Handler)?.(event as never);
    });
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  send(text: string): void {
    this.socket.send(text);
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }
}

export interface EarlySocket {
  /** Hands out the early socket for the first `new (url)`, fresh sockets after. */
  readonly factory: SocketFactory;
  /** Closes the early socket unless it was adopted (a tab that is not elected to hold the edge). */
  discard(): void;
}

/** Opens a socket to `url` now, for an edge to adopt through `factory`. */
export function openEarlySocket(url: string, Impl: SocketFactory): EarlySocket {
  let early: { socket: SocketLike; kept: [EventName, unknown][] } | null = null;
  try {
    const socket = new Impl(url);
    const kept: [EventName, unknown][] = [];
    for (const name of ['onopen', 'onmessage', 'onclose', 'onerror'] as const) {
      socket[name] = (event: unknown) => {
        if (name === 'onopen') markJoin('socket-open');
        kept.push([name, event]);
      };
    }
    early = { socket, kept };
  } catch {
    // the edge opens its own socket (and reports why that fails)
  }
  function Factory(this: unknown, wanted: string): SocketLike {
    if (early && wanted === url) {
      const { socket, kept } = early;
      early = null;
      return new AdoptedSocket(socket, kept);
    }
    return new Impl(wanted);
  }
  const discard = (): void => {
    if (!early) return;
    const { socket } = early;
    early = null;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close();
    } catch {
      // never opened
    }
  };
  return { factory: Factory as unknown as SocketFactory, discard };
}
