/**
 * The signaling server end to end: a real server on port 0, real `ws` clients, real Ed25519 identities.
 * Plus the pure parts (rate limiter with a fake clock, static path resolution).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateIdentity, secretProof, sign, toBase64, type Identity } from '../../src/identity/identity.ts';
import { SIGNALING_VERSION, joinChallenge, type ServerMessage } from '../../src/wire/signaling.ts';
import { ConnectionRateLimiter } from '../../signaling/rate-limit.ts';
import { startSignalingServer, type SignalingServer, type SignalingServerOptions } from '../../signaling/server.ts';
import { resolveStaticPath } from '../../signaling/static-files.ts';
import { SAMPLE_SIZE } from '../../signaling/session.ts';
import { GOSSIP_VIEW_SIZE } from '../../src/runtime/gossip-slots.ts';

const v = SIGNALING_VERSION;

/** A test client: collects server messages and lets a test await the next one matching a predicate. */
class Client {
  readonly inbox: ServerMessage[] = [];
  nonce = '';
  closeCode: number | null = null;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.inbox.push(JSON.parse(String(data)) as ServerMessage);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
        for (const w of this.waiters.splice(0)) w();
      }),
    );
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<Client> {
    const client = new Client(new WebSocket(url, options));
    const hello = await client.next('hello');
    if (hello.t === 'hello') client.nonce = hello.nonce;
    return client;
  }

  /** Removes and returns the first message of type `t` (and `code`, for errors), waiting up to `ms`. */
  async next<T extends ServerMessage['t']>(t: T, code?: string, ms = 3000): Promise<Extract<ServerMessage, { t: T }>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.t === t && (code === undefined || (m.t === 'error' && m.code === code)));
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<ServerMessage, { t: T }>;
      if (this.closeCode !== null) throw new Error(`socket closed (${this.closeCode}) before ${t} ${code ?? ''}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${t} ${code ?? ''} within ${ms} ms; inbox ${JSON.stringify(this.inbox)}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.waiters.push(() => (clearTimeout(timer), r()));
      });
    }
  }

  /** The close code, failing fast if the socket is still open after `ms`. */
  closedIn(ms = 3000): Promise<number> {
    return Promise.race([
      this.closed,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms).unref()),
    ]);
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  async join(id: Identity, cloud: string, secret?: string): Promise<void> {
    const challenge = joinChallenge(cloud, id.peerId, this.nonce);
    const msg: Record<string, unknown> = {
      t: 'join', v, cloud, peerId: id.peerId, publicKey: toBase64(id.publicKey), signature: toBase64(await sign(id, challenge)),
    };
    if (secret !== undefined) msg.proof = await secretProof(secret, challenge);
    this.send(msg);
  }

  isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
}

let server: SignalingServer;
let staticDir: string;
const ids: Identity[] = [];
const clients: Client[] = [];

async function connect(url = server.wsUrl, options: WebSocket.ClientOptions = {}): Promise<Client> {
  const c = await Client.open(url, options);
  clients.push(c);
  return c;
}

/** A client joined to `cloud` with identity `id`, its welcome returned. */
async function joined(id: Identity, cloud: string, url = server.wsUrl): Promise<{ c: Client; peers: string[] }> {
  const c = await connect(url);
  await c.join(id, cloud);
  return { c, peers: (await c.next('welcome')).peers };
}

/** A raw HTTP GET (the path is sent exactly as given, so `..` reaches the server). */
function get(base: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function withServer<T>(opts: SignalingServerOptions, fn: (s: SignalingServer) => Promise<T>): Promise<T> {
  const s = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: null, ...opts });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

beforeAll(async () => {
  staticDir = await mkdtemp(join(tmpdir(), 'nephele-static-'));
  await mkdir(join(staticDir, 'assets'));
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Nephele</title>');
  await writeFile(join(staticDir, 'assets', 'app.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  await writeFile(join(staticDir, '.env'), 'SECRET=1');
  server = await startSignalingServer({
    port: 0, host: '127.0.0.1', staticDir, clouds: { lab: { secret: 'correct horse' } },
    iceServers: [{ urls: 'stun:stun.example.org' }],
  });
  for (let i = 0; i < 6; i++) ids.push(await generateIdentity());
});

afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  await server.close();
  await rm(staticDir, { recursive: true, force: true });
});

describe('signaling server: join and relay', () => {
  it('hands a joiner a whole gossip view of distinct live peers (so its view is full from the welcome)', async () => {
    expect(SAMPLE_SIZE).toBe(GOSSIP_VIEW_SIZE);
    const members = await Promise.all(Array.from({ length: SAMPLE_SIZE + 3 }, () => generateIdentity()));
    const live: string[] = [];
    for (const id of members.slice(0, -1)) {
      await joined(id, 'big-welcome');
      live.push(id.peerId);
    }
    const last = await joined(members[members.length - 1]!, 'big-welcome');
    expect(last.peers).toHaveLength(SAMPLE_SIZE);
    expect(new Set(last.peers).size).toBe(SAMPLE_SIZE);
    for (const p of last.peers) expect(live).toContain(p);
  });

  it('welcomes each joiner with the live peers of its cloud, never itself', async () => {
    const [a, b, c] = [ids[0]!, ids[1]!, ids[2]!];
    const first = await joined(a, 'welcome');
    expect(first.peers).toEqual([]);
    const second = await joined(b, 'welcome');
    expect(second.peers).toEqual([a.peerId]);
    const third = await joined(c, 'welcome');
    expect(third.peers.sort()).toEqual([a.peerId, b.peerId].sort());
    third.c.send({ t: 'discover', v });
    expect((await third.c.next('peers')).peers.sort()).toEqual([a.peerId, b.peerId].sort());
    first.c.ws.close();
    await first.c.closedIn();
    await new Promise((r) => setTimeout(r, 50));
    second.c.send({ t: 'discover', v });
    expect((await second.c.next('peers')).peers).toEqual([c.peerId]);
    second.c.ws.close();
    third.c.ws.close();
  });

  it('relays signals both ways, stamped with the sender', async () => {
    const before = server.metrics().relays;
    const a = await joined(ids[0]!, 'relay');
    const b = await joined(ids[1]!, 'relay');
    a.c.send({ t: 'signal', v, to: ids[1]!.peerId, id: 's1', data: { type: 'offer', sdp: 'v=0 offer' } });
    expect(await b.c.next('signal')).toEqual({ t: 'signal', v, from: ids[0]!.peerId, id: 's1', data: { type: 'offer', sdp: 'v=0 offer' } });
    b.c.send({ t: 'signal', v, to: ids[0]!.peerId, id: 's1', data: { type: 'answer', sdp: 'v=0 answer' } });
    expect(await a.c.next('signal')).toMatchObject({ from: ids[1]!.peerId, id: 's1', data: { type: 'answer' } });
    expect(server.metrics().relays).toBe(before + 2);
  });

  it('refuses a signal to a peer that is not in the cloud', async () => {
    const a = await joined(ids[0]!, 'lonely');
    a.c.send({ t: 'signal', v, to: ids[5]!.peerId, id: 'x', data: { type: 'offer' } });
    expect(await a.c.next('error', 'E_UNKNOWN_PEER')).toMatchObject({ ref: 'signal' });
    expect(a.c.isOpen()).toBe(true);
  });

  it('keeps clouds apart: a peer never sees or reaches another cloud', async () => {
    const a = await joined(ids[0]!, 'cloud-a');
    const b = await joined(ids[1]!, 'cloud-b');
    expect(b.peers).toEqual([]);
    b.c.send({ t: 'discover', v });
    expect((await b.c.next('peers')).peers).toEqual([]);
    b.c.send({ t: 'signal', v, to: ids[0]!.peerId, id: 'x', data: { type: 'offer' } });
    await b.c.next('error', 'E_UNKNOWN_PEER');
    a.c.send({ t: 'discover', v });
    await a.c.next('peers');
    expect(a.c.inbox.filter((m) => m.t === 'signal')).toEqual([]);
  });

  it('replaces a stale socket when the same peer joins again', async () => {
    const old = await joined(ids[2]!, 'reload');
    const other = await joined(ids[3]!, 'reload');
    const fresh = await joined(ids[2]!, 'reload');
    expect(fresh.peers).toEqual([ids[3]!.peerId]);
    await old.c.next('error', 'E_DUPLICATE_PEER');
    expect(await old.c.closedIn()).toBe(4000);
    other.c.send({ t: 'signal', v, to: ids[2]!.peerId, id: 'r', data: { type: 'offer' } });
    expect((await fresh.c.next('signal')).from).toBe(ids[3]!.peerId);
    other.c.send({ t: 'discover', v });
    expect((await other.c.next('peers')).peers).toEqual([ids[2]!.peerId]);
  });
});

describe('signaling server: identity and private clouds', () => {
  it('refuses a wrong signature or a peer id that is not the key\'s, and closes', async () => {
    const c = await connect();
    const id = ids[0]!;
    const signature = toBase64(await sign(id, joinChallenge('sig', id.peerId, 'some other nonce')));
    c.send({ t: 'join', v, cloud: 'sig', peerId: id.peerId, publicKey: toBase64(id.publicKey), signature });
    expect(await c.next('error', 'E_BAD_SIGNATURE')).toMatchObject({ ref: 'join' });
    expect(await c.closedIn()).toBe(1008);

    const d = await connect();
    const good = toBase64(await sign(id, joinChallenge('sig', ids[1]!.peerId, d.nonce)));
    d.send({ t: 'join', v, cloud: 'sig', peerId: ids[1]!.peerId, publicKey: toBase64(id.publicKey), signature: good });
    await d.next('error', 'E_BAD_SIGNATURE');
    await d.closedIn();
    expect(server.metrics().rejections.E_BAD_SIGNATURE).toBeGreaterThanOrEqual(2);
  });

  it('admits a private cloud\'s member only with the right proof', async () => {
    const wrong = await connect();
    await wrong.join(ids[0]!, 'lab', 'wrong horse');
    await wrong.next('error', 'E_BAD_PROOF');
    expect(await wrong.closedIn()).toBe(1008);
    const none = await connect();
    await none.join(ids[0]!, 'lab');
    await none.next('error', 'E_BAD_PROOF');
    await none.closedIn();
    const right = await connect();
    await right.join(ids[0]!, 'lab', 'correct horse');
    expect((await right.next('welcome')).peers).toEqual([]);
  });

  it('answers messages before join with E_NOT_JOINED and a second join with E_ALREADY_JOINED', async () => {
    const c = await connect();
    c.send({ t: 'discover', v });
    expect(await c.next('error', 'E_NOT_JOINED')).toMatchObject({ ref: 'discover' });
    await c.join(ids[4]!, 'twice');
    await c.next('welcome');
    await c.join(ids[4]!, 'twice');
    await c.next('error', 'E_ALREADY_JOINED');
    expect(c.isOpen()).toBe(true);
  });
});

describe('signaling server: bad input and limits', () => {
  it('answers malformed, invalid and wrong-version messages and keeps the connection', async () => {
    const c = await connect();
    c.send('{not json');
    expect((await c.next('error', 'E_MALFORMED')).ref).toBeUndefined();
    c.send({ t: 'signal', v, to: 'not-a-peer', id: 'x', data: {} });
    expect(await c.next('error', 'E_MALFORMED')).toMatchObject({ ref: 'signal' });
    c.send({ t: 'discover', v: 2 });
    expect(await c.next('error', 'E_BAD_VERSION')).toMatchObject({ ref: 'discover' });
    c.ws.send(Buffer.from([1, 2, 3]));
    await c.next('error', 'E_MALFORMED');
    await c.join(ids[5]!, 'after-junk');
    await c.next('welcome');
  });

  it('answers a message over 16 KiB with E_TOO_LARGE, and ws cuts one over 64 KiB (1009)', async () => {
    const c = await connect();
    c.send({ t: 'discover', v, pad: 'x'.repeat(20 * 1024) });
    await c.next('error', 'E_TOO_LARGE');
    expect(c.isOpen()).toBe(true);
    c.send({ t: 'discover', v, pad: 'x'.repeat(100 * 1024) });
    expect(await c.closedIn()).toBe(1009);
  });

  it('rate-limits a flood with E_RATE_LIMITED and closes a sustained one', async () => {
    await withServer({ rate: { perSecond: 5, burst: 10 } }, async (s) => {
      const c = await Client.open(s.wsUrl);
      for (let i = 0; i < 15; i++) c.send({ t: 'discover', v });
      expect(await c.next('error', 'E_RATE_LIMITED')).toBeDefined();
      expect(c.inbox.filter((m) => m.t === 'error' && m.code === 'E_NOT_JOINED').length).toBeLessThanOrEqual(11);
      expect(c.isOpen()).toBe(true);
      const bystander = await Client.open(s.wsUrl);
      await bystander.join(ids[4]!, 'calm');
      await bystander.next('welcome');
      for (let i = 0; i < 40; i++) c.send({ t: 'discover', v });
      expect(await c.closedIn()).toBe(1008);
      expect(s.metrics().rejections.E_RATE_LIMITED).toBeGreaterThan(10);
      // The server keeps serving everyone else.
      bystander.send({ t: 'discover', v });
      expect(await bystander.next('peers')).toBeDefined();
      expect(bystander.isOpen()).toBe(true);
    });
  });

  it('caps connections per address and admits again when one leaves', async () => {
    await withServer({ maxConnectionsPerAddress: 2 }, async (s) => {
      const a = await Client.open(s.wsUrl);
      await Client.open(s.wsUrl);
      const third = new Client(new WebSocket(s.wsUrl));
      await third.next('error', 'E_TOO_MANY_CONNECTIONS');
      expect(await third.closedIn()).toBe(1008);
      expect(s.metrics().connections).toBe(2);
      a.ws.close();
      await a.closedIn();
      await new Promise((r) => setTimeout(r, 50));
      const again = await Client.open(s.wsUrl);
      expect(again.nonce).not.toBe('');
      for (const ws of [again.ws]) ws.close();
    });
  });

  it('terminates a socket that stops answering pings, and its peer leaves the cloud', async () => {
    await withServer({ heartbeatMs: 100 }, async (s) => {
      const live = await Client.open(s.wsUrl);
      await live.join(ids[0]!, 'beat');
      await live.next('welcome');
      const dead = await Client.open(s.wsUrl, { autoPong: false });
      await dead.join(ids[1]!, 'beat');
      await dead.next('welcome');
      expect(s.metrics().peers).toBe(2);
      expect(await dead.closedIn()).toBe(1006);
      await new Promise((r) => setTimeout(r, 250));
      expect(live.isOpen()).toBe(true);
      expect(s.metrics().peers).toBe(1);
      live.send({ t: 'discover', v });
      expect((await live.next('peers')).peers).toEqual([]);
      await s.close();
      expect(await live.closedIn()).toBe(1001);
    });
  });
});

describe('signaling server: HTTP', () => {
  it('serves /healthz, /config.json and /metrics whose numbers move', async () => {
    const health = await get(server.url, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ ok: true });
    expect(JSON.parse((await get(server.url, '/config.json')).body)).toEqual({ iceServers: [{ urls: 'stun:stun.example.org' }] });
    const count = (text: string, name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    const before = (await get(server.url, '/metrics')).body;
    const a = await joined(ids[0]!, 'metered');
    await joined(ids[1]!, 'metered');
    a.c.send({ t: 'signal', v, to: ids[1]!.peerId, id: 'm', data: {} });
    a.c.send({ t: 'signal', v, to: ids[2]!.peerId, id: 'm', data: {} });
    await a.c.next('error', 'E_UNKNOWN_PEER');
    const after = (await get(server.url, '/metrics')).body;
    expect(after).toMatch(/^nephele_signaling_peers\{cloud="metered"\} 2$/m);
    expect(after).toMatch(/^nephele_signaling_peers\{cloud="lab"\} \d+$/m);
    expect(count(after, 'nephele_signaling_joins_total')).toBe(count(before, 'nephele_signaling_joins_total') + 2);
    expect(count(after, 'nephele_signaling_relays_total')).toBe(count(before, 'nephele_signaling_relays_total') + 1);
    expect(count(after, 'nephele_signaling_connections')).toBe(server.metrics().connections);
    expect(after).toMatch(/^nephele_signaling_rejections_total\{code="E_UNKNOWN_PEER"\} \d+$/m);
  });

  it('serves static files with content types and security headers, and refuses traversal', async () => {
    const index = await get(server.url, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>Nephele</title>');
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect(index.headers['cross-origin-opener-policy']).toBe('same-origin');
    const wasm = await get(server.url, '/assets/app.wasm');
    expect(wasm.status).toBe(200);
    expect(wasm.headers['content-type']).toBe('application/wasm');
    for (const path of ['/../package.json', '/assets/../../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/.env', '/nope.js']) {
      const res = await get(server.url, path);
      expect(res.status, path).toBe(404);
      expect(res.headers['content-security-policy'], path).toBeDefined();
    }
    expect((await get(server.url, '/healthz')).headers['content-security-policy']).toBeDefined();
  });
});

describe('signaling server: pure parts', () => {
  it('token bucket: bursts, refills at the rate, tells once, then flags sustained abuse', () => {
    const limiter = new ConnectionRateLimiter({ perSecond: 10, burst: 3 }, 0);
    expect([0, 0, 0].map((t) => limiter.admit(t))).toEqual(['accept', 'accept', 'accept']);
    expect(limiter.admit(0)).toBe('limit');
    expect(limiter.admit(0)).toBe('drop');
    expect(limiter.admit(100)).toBe('accept');
    expect(limiter.admit(100)).toBe('limit');
    expect(limiter.admit(100)).toBe('drop');
    expect(limiter.admit(100)).toBe('abuse');
    const steady = new ConnectionRateLimiter({ perSecond: 10, burst: 3 }, 0);
    for (let t = 0; t < 5000; t += 100) expect(steady.admit(t)).toBe('accept');
  });

  it('static paths stay inside the root', () => {
    expect(resolveStaticPath('/srv/app', '/')).toBe('/srv/app/index.html');
    expect(resolveStaticPath('/srv/app', '/assets/a.js')).toBe('/srv/app/assets/a.js');
    for (const bad of ['/../etc/passwd', '/%2e%2e/etc/passwd', '/a/%2e%2e/%2e%2e/x', '/.git/config', '/%00', '/%zz', '/a\\..\\b']) {
      expect(resolveStaticPath('/srv/app', bad), bad).toBeNull();
    }
  });
});
