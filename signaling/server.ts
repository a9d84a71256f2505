/**
 * The Nephele signaling server: one HTTP port that serves the built app, health, metrics and ICE config, and
 * upgrades `/signal` to a WebSocket where peers join a cloud (proving their Ed25519 identity, and the cloud's
 * secret if it is private), learn a few live peers, and relay WebRTC signals to each other. It is only a
 * bootstrap: once peers are connected, the overlay carries signals itself.
 *
 * Limits: 16 KiB messages (a reply for up to 64 KiB, beyond that `ws` closes with 1009), a token bucket per
 * connection, a cap on connections per remote address, and a ping heartbeat that terminates silent sockets.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { createRng } from '../src/core/rng.ts';
import { SIGNALING_VERSION, SignalingErrors } from '../src/wire/signaling.ts';
import { createHttpHandler } from './http.ts';
import { SignalingMetrics, type MetricsSnapshot } from './metrics.ts';
import { ConnectionRateLimiter, DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limit.ts';
import { CloudRooms } from './rooms.ts';
import { parsePartnerOrigins } from './static-files.ts';
import { CloseCodes, SignalingSession, type SessionContext } from './session.ts';

export interface SignalingServerOptions {
  port?: number;
  host?: string;
  /** Directory of the built app; null serves no files. Default 'dist'. */
  staticDir?: string | null;
  /** Private clouds and their shared secrets. Any other valid cloud name is a public cloud, made on demand. */
  clouds?: Record<string, { secret: string }>;
  maxConnectionsPerAddress?: number;
  heartbeatMs?: number;
  iceServers?: unknown[];
  rate?: RateLimit;
  /** Origins allowed to frame the lending widget (/widget.html), e.g. ['https://shop.example']. Default none. */
  partners?: readonly string[];
}

export interface SignalingServer {
  /** http://host:port */
  readonly url: string;
  /** ws://host:port/signal */
  readonly wsUrl: string;
  readonly port: number;
  metrics(): MetricsSnapshot;
  /** Closes every socket (peers see the close) and the HTTP server. Idempotent. */
  close(): Promise<void>;
}

export const SIGNAL_PATH = '/signal';
/** Frames above this are cut by `ws` itself (close 1009); between 16 KiB and this they get E_TOO_LARGE. */
const HARD_MAX_PAYLOAD = 64 * 1024;
const CLOSE_GRACE_MS = 1000;

export async function startSignalingServer(opts: SignalingServerOptions): Promise<SignalingServer> {
  const host = opts.host ?? '127.0.0.1';
  const maxPerAddress = opts.maxConnectionsPerAddress ?? 64;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const rate = opts.rate ?? DEFAULT_RATE_LIMIT;
  new ConnectionRateLimiter(rate, 0); // validates the option before anything listens
  const partners = parsePartnerOrigins(opts.partners ?? []);
  const privateClouds = new Map(Object.entries(opts.clouds ?? {}).map(([name, c]) => [name, c.secret] as const));

  const metrics = new SignalingMetrics();
  const rooms = new CloudRooms<SignalingSession>(createRng(randomInt(2 ** 31)));
  const ctx: SessionContext = { rooms, metrics, privateClouds, now: () => performance.now() };
  const sessions = new Map<WebSocket, SignalingSession>();
  const alive = new WeakMap<WebSocket, boolean>();
  const perAddress = new Map<string, number>();

  const peersByCloud = (): Map<string, number> => {
    const counts = rooms.peerCounts();
    for (const name of privateClouds.keys()) if (!counts.has(name)) counts.set(name, 0);
    return counts;
  };
  const http = createServer(
    createHttpHandler({
      staticDir: opts.staticDir === undefined ? 'dist' : opts.staticDir,
      iceServers: opts.iceServers ?? [],
      renderMetrics: () => metrics.render(peersByCloud(), sessions.size),
      partners,
    }),
  );
  const wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MAX_PAYLOAD, perMessageDeflate: false });

  http.on('upgrade', (req, socket, head) => {
    let path = '';
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      /* falls through to 404 */
    }
    if (path !== SIGNAL_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const address = req.socket.remoteAddress ?? 'unknown';
      const count = perAddress.get(address) ?? 0;
      if (count >= maxPerAddress) {
        ws.on('error', () => ws.terminate());
        metrics.reject(SignalingErrors.TOO_MANY_CONNECTIONS);
        const message = `at most ${maxPerAddress} connections per address`;
        ws.send(JSON.stringify({ t: 'error', v: SIGNALING_VERSION, code: SignalingErrors.TOO_MANY_CONNECTIONS, message }));
        ws.close(CloseCodes.POLICY, 'too many connections');
        return;
      }
      perAddress.set(address, count + 1);
      const session = new SignalingSession(
        ctx,
        { send: (text) => ws.send(text), close: (code, reason) => ws.close(code, reason), isOpen: () => ws.readyState === ws.OPEN },
        new ConnectionRateLimiter(rate, ctx.now()),
        randomBytes(18).toString('base64url'),
      );
      sessions.set(ws, session);
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      ws.on('message', (data: RawData, isBinary: boolean) => session.receive(toBuffer(data), isBinary));
      ws.on('error', () => ws.terminate());
      ws.once('close', () => {
        session.ended();
        sessions.delete(ws);
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left > 0) perAddress.set(address, left);
        else perAddress.delete(address);
      });
      session.start();
    });
  });

  const heartbeat = setInterval(() => {
    for (const ws of sessions.keys()) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 8080, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  const close = async (): Promise<void> => {
    clearInterval(heartbeat);
    const open = [...wss.clients];
    const closed = Promise.all(open.map((ws) => new Promise<void>((r) => (ws.readyState === ws.CLOSED ? r() : ws.once('close', () => r())))));
    for (const ws of open) ws.close(CloseCodes.GOING_AWAY, 'server shutting down');
    await Promise.race([closed, new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  };

  return {
    url: `http://${shownHost}:${port}`,
    wsUrl: `ws://${shownHost}:${port}${SIGNAL_PATH}`,
    port,
    metrics: () => ({ peers: rooms.totalPeers(), connections: sessions.size, relays: metrics.relays, rejections: metrics.rejections() }),
    close: () => (closing ??= close()),
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
