/**
 * The early signaling socket (src/net/early-socket.ts): what the socket reported before the edge adopted it
 * reaches the adopter's handlers, in order, once they are set; later sockets are fresh; an unadopted socket is
 * closed by discard(). A scripted socket stands in for the browser's WebSocket (pure adapter logic).
 */
import { describe, expect, it } from 'vitest';
import { openEarlySocket } from '../../src/net/early-socket.ts';
import type { SocketFactory, SocketLike } from '../../src/net/platform.ts';

class ScriptedSocket implements SocketLike {
  static made: ScriptedSocket[] = [];
  readyState = 0;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  readonly sent: string[] = [];
  closed = false;

  constructor(readonly url: string) {
    ScriptedSocket.made.push(this);
  }

  send(text: string): void {
    this.sent.push(text);
  }

  close(): void {
    this.closed = true;
  }
}

const factory = ScriptedSocket as unknown as SocketFactory;

describe('openEarlySocket', () => {
  it('replays what happened before adoption, then forwards, and gives later callers fresh sockets', async () => {
    ScriptedSocket.made = [];
    const early = openEarlySocket('ws://x/signal', factory);
    const real = ScriptedSocket.made[0]!;
    real.readyState = 1;
    real.onopen?.({});
    real.onmessage?.({ data: 'hello' });
    const seen: string[] = [];
    const adopted = new early.factory('ws://x/signal');
    adopted.onopen = () => seen.push('open');
    adopted.onmessage = (e) => seen.push(`message ${String(e.data)}`);
    adopted.onclose = () => seen.push('close');
    expect(seen).toEqual([]);
    await Promise.resolve();
    expect(seen).toEqual(['open', 'message hello']);
    expect(adopted.readyState).toBe(1);
    adopted.send('join');
    expect(real.sent).toEqual(['join']);
    real.onclose?.({});
    expect(seen).toEqual(['open', 'message hello', 'close']);
    const again = new early.factory('ws://x/signal');
    expect(ScriptedSocket.made).toHaveLength(2);
    expect(again).toBe(ScriptedSocket.made[1]);
    early.discard();
    expect(real.closed).toBe(false);
  });

  it('closes the early socket when no edge adopted it', () => {
    ScriptedSocket.made = [];
    const early = openEarlySocket('ws://x/signal', factory);
    early.discard();
    expect(ScriptedSocket.made[0]!.closed).toBe(true);
    new early.factory('ws://x/signal');
    expect(ScriptedSocket.made).toHaveLength(2);
  });
});
