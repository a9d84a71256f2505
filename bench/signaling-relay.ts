/**
 * Signal relay rate of our signaling server against a minimal `ws` relay (the reference BROWSER.md measured:
 * it only forwards `{to, data}` by id, with no validation, auth or limits), same load, same run.
 * Load: `pairs` pairs of clients, each client keeping `window` 400-byte signals in flight to its partner.
 */
import { WebSocketServer, WebSocket } from 'ws';
import { startSignalingServer } from '../signaling/server.ts';
import { generateIdentity, sign, toBase64 } from '../src/identity/identity.ts';
import { joinChallenge } from '../src/wire/signaling.ts';

const SDP_LIKE = 'a=candidate:1 1 UDP 2122252543 127.0.0.1 50000 typ host '.repeat(7).slice(0, 400);

/** The reference: a relay as small as it can be. Clients connect with `?id=<id>`. */
async function startMinimalRelay(): Promise<{ url: string; close(): Promise<void> }> {
  const clients = new Map<string, WebSocket>();
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (socket, request) => {
    const id = new URL(request.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    clients.set(id, socket);
    socket.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { to: string; data: unknown };
      clients.get(msg.to)?.send(JSON.stringify({ from: id, data: msg.data }));
    });
    socket.on('close', () => clients.delete(id));
  });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

interface Client {
  readonly id: string;
  readonly socket: WebSocket;
  received: number;
}

async function opened(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.OPEN) return;
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
}

/** Drives `pairs` pairs through `send` until `total` relays arrived; returns relays per second. */
async function drive(clients: Client[], total: number, window: number, send: (from: Client, to: Client) => void): Promise<number> {
  const perClient = Math.ceil(total / clients.length);
  const start = performance.now();
  await Promise.all(clients.map((client, i) => new Promise<void>((resolve) => {
    const partner = clients[i ^ 1]!;
    let sent = 0;
    const pump = (): void => {
      while (sent < perClient && sent - partner.received < window) {
        send(client, partner);
        sent++;
      }
      if (partner.received >= perClient) resolve();
    };
    partner.socket.on('message', () => {
      partner.received++;
      pump();
    });
    pump();
  })));
  return (clients.length * perClient) / ((performance.now() - start) / 1000);
}

export async function minimalRelayRate(pairs: number, total: number, window: number): Promise<number> {
  const relay = await startMinimalRelay();
  const clients: Client[] = [];
  for (let i = 0; i < pairs * 2; i++) {
    const id = `c${i}`;
    const socket = new WebSocket(`${relay.url}/?id=${id}`);
    await opened(socket);
    clients.push({ id, socket, received: 0 });
  }
  const rate = await drive(clients, total, window, (from, to) =>
    from.socket.send(JSON.stringify({ to: to.id, data: { type: 'candidate', candidate: SDP_LIKE } })));
  for (const c of clients) c.socket.close();
  await relay.close();
  return rate;
}

export async function nepheleRelayRate(pairs: number, total: number, window: number): Promise<number> {
  // The per-connection rate limit (50/s by default) is lifted: this measures relay cost, not the limiter.
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: null, rate: { perSecond: 1e6, burst: 1e6 }, maxConnectionsPerAddress: 10_000 });
  const clients: Client[] = [];
  for (let i = 0; i < pairs * 2; i++) {
    const identity = await generateIdentity();
    const socket = new WebSocket(server.wsUrl);
    const welcomed = new Promise<void>((resolve, reject) => {
      socket.on('message', function onHello(raw) {
        const msg = JSON.parse(String(raw)) as { t: string; nonce?: string; code?: string };
        if (msg.t === 'hello') {
          void sign(identity, joinChallenge('bench', identity.peerId, msg.nonce!)).then((signature) => socket.send(JSON.stringify({
            t: 'join', v: 1, cloud: 'bench', peerId: identity.peerId, publicKey: toBase64(identity.publicKey), signature: toBase64(signature),
          })));
        } else if (msg.t === 'welcome') {
          socket.off('message', onHello);
          resolve();
        } else if (msg.t === 'error') reject(new Error(`${msg.code}`));
      });
    });
    await welcomed;
    clients.push({ id: identity.peerId, socket, received: 0 });
  }
  let n = 0;
  const rate = await drive(clients, total, window, (from, to) =>
    from.socket.send(JSON.stringify({ t: 'signal', v: 1, to: to.id, id: `s${n++}`, data: { type: 'candidate', candidate: SDP_LIKE } })));
  for (const c of clients) c.socket.close();
  await server.close();
  return rate;
}
