/**
 * Request and answer over raw frames for the storage protocol (wire/storage.ts): numbers requests per node,
 * pairs each answer with its request by (peer, req), opens a link first when there is none (and waits for it),
 * and fails a request with a named code when its peer goes down (E_STORAGE_PEER_LOST), answers with an error, or
 * stays silent past the timeout (E_STORAGE_TIMEOUT). Incoming requests go to the service's handler, whose
 * answer is sent back; a handler that throws answers with the error's code.
 */
import type { PeerId } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';
import { encodeFrame } from '../../wire/frame.ts';
import { decodeStorageMessage, STORAGE_PROTOCOL, STORAGE_WIRE_VERSION, type StorageMessage } from '../../wire/storage.ts';
import { traceMark, traceOn } from '../../store/storage-trace.ts';

const REQUESTS = ['put', 'get', 'locate', 'has', 'handover', 'nlock', 'nput', 'ncommit', 'nrelease', 'nsync', 'nlocate', 'nget'] as const;
type Request = Extract<StorageMessage, { t: (typeof REQUESTS)[number] }>;
type Answer = Exclude<StorageMessage, Request>;
type Unnumbered<T> = T extends unknown ? Omit<T, 'req'> : never;
export type OutgoingRequest = Unnumbered<Request>;
export type OutgoingAnswer = Unnumbered<Exclude<Answer, { t: 'error' }>>;

export interface Reply<A = Answer> {
  readonly msg: A;
  readonly body: Uint8Array;
}

export interface RpcDeps {
  readonly sendFrame: (to: PeerId, frame: Uint8Array) => boolean;
  readonly connect: (to: PeerId) => void;
  readonly log: (level: 'info' | 'warn', text: string) => void;
  /** Serves a request from a peer; resolves to the answer (and its body). */
  readonly serve: (from: PeerId, msg: Request, body: Uint8Array) => Promise<{ msg: OutgoingAnswer; body?: Uint8Array }>;
  readonly timeoutMs: number;
}

interface Pending {
  readonly peer: PeerId;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly sentAt: number;
  /** Only requests and answers without a body are round-trip samples (a chunk's transfer time is not). */
  readonly sample: boolean;
  /** The request's chunk, kept only while tracing (storage-trace.ts) to mark its answer. */
  readonly chunk?: string;
}

const REQUEST_TYPES = new Set<string>(REQUESTS);
/** Weight of a new sample in the round-trip average. */
const RTT_WEIGHT = 0.3;

export class StorageRpc {
  private nextReq = 1;
  private readonly pending = new Map<string, Pending>();
  /** Frames waiting for a link to open, by peer. */
  private readonly waitingLink = new Map<PeerId, Uint8Array[]>();
  rejected = 0;
  /** Smoothed round-trip time per peer (ms), from small requests. */
  private readonly rtts = new Map<PeerId, number>();

  constructor(private readonly deps: RpcDeps) {}

  request(to: PeerId, msg: OutgoingRequest, body?: Uint8Array): Promise<Reply> {
    const req = this.nextReq++ & 0x7fffffff;
    const key = `${to}:${req}`;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(key, new NepheleError('E_STORAGE_TIMEOUT', `${msg.t} to ${to.slice(0, 8)} unanswered in ${this.deps.timeoutMs} ms`)), this.deps.timeoutMs);
      const chunk = traceOn() ? chunkOf(msg) : undefined;
      this.pending.set(key, { peer: to, resolve, reject, timer, sentAt: performance.now(), sample: !body || body.byteLength === 0, chunk });
      this.send(to, encodeFrame({ p: STORAGE_PROTOCOL, v: STORAGE_WIRE_VERSION, m: { ...msg, req } }, body));
      if (chunk !== undefined) traceMark(`rq> ${msg.t}`, chunk, to.slice(0, 8));
    });
  }

  onFrame(from: PeerId, v: number, m: unknown, body: Uint8Array): void {
    if (v !== STORAGE_WIRE_VERSION) return this.drop(from, 'E_BAD_VERSION', `storage v${v}, expected v${STORAGE_WIRE_VERSION}`);
    const decoded = decodeStorageMessage(m, body);
    if (!decoded.ok) return this.drop(from, decoded.code, decoded.reason);
    const msg = decoded.value;
    if (isRequest(msg)) {
      if (traceOn()) traceMark(`rq< ${msg.t}`, chunkOf(msg) ?? '', from.slice(0, 8));
      void this.answer(from, msg, body);
      return;
    }
    const key = `${from}:${msg.req}`;
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    if (p.sample && body.byteLength === 0) this.recordRtt(from, performance.now() - p.sentAt);
    if (p.chunk !== undefined) traceMark(`an< ${msg.t}`, p.chunk, from.slice(0, 8));
    if (msg.t === 'error') p.reject(new NepheleError(msg.code, `${from.slice(0, 8)}: ${msg.message}`));
    else p.resolve({ msg, body });
  }

  /** The measured round trip to `peer` in ms, or undefined before any sample. */
  rttOf(peer: PeerId): number | undefined {
    return this.rtts.get(peer);
  }

  private recordRtt(peer: PeerId, ms: number): void {
    const prev = this.rtts.get(peer);
    this.rtts.set(peer, prev === undefined ? ms : prev + RTT_WEIGHT * (ms - prev));
  }

  peerUp(peer: PeerId): void {
    const frames = this.waitingLink.get(peer);
    if (!frames) return;
    this.waitingLink.delete(peer);
    for (const frame of frames) this.deps.sendFrame(peer, frame);
  }

  peerDown(peer: PeerId): void {
    this.waitingLink.delete(peer);
    for (const [key, p] of this.pending) {
      if (p.peer === peer) this.fail(key, new NepheleError('E_STORAGE_PEER_LOST', `link to ${peer.slice(0, 8)} closed`));
    }
  }

  stop(): void {
    for (const key of [...this.pending.keys()]) this.fail(key, new NepheleError('E_STORAGE_STOPPED', 'the node stopped'));
  }

  private async answer(from: PeerId, msg: Request, body: Uint8Array): Promise<void> {
    let frame: Uint8Array;
    try {
      const a = await this.deps.serve(from, msg, body);
      frame = encodeFrame({ p: STORAGE_PROTOCOL, v: STORAGE_WIRE_VERSION, m: { ...a.msg, req: msg.req } }, a.body);
    } catch (err) {
      const code = err instanceof NepheleError && /^E_[A-Z0-9_]{1,48}$/.test(err.code) ? err.code : 'E_STORAGE_FAILED';
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      frame = encodeFrame({ p: STORAGE_PROTOCOL, v: STORAGE_WIRE_VERSION, m: { t: 'error', req: msg.req, code, message } });
    }
    this.send(from, frame);
    if (traceOn()) traceMark(`an> ${msg.t}`, chunkOf(msg) ?? '', from.slice(0, 8));
  }

  private send(to: PeerId, frame: Uint8Array): void {
    if (this.deps.sendFrame(to, frame)) return;
    const queued = this.waitingLink.get(to);
    if (queued) {
      queued.push(frame);
      return;
    }
    this.waitingLink.set(to, [frame]);
    this.deps.connect(to);
  }

  private fail(key: string, err: Error): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    p.reject(err);
  }

  private drop(from: PeerId, code: string, reason: string): void {
    this.rejected++;
    this.deps.log('warn', `dropped storage frame from ${from.slice(0, 8)}: ${code}: ${reason}`);
  }
}

/** The chunk a message is about, for trace marks. */
function chunkOf(msg: object): string | undefined {
  const chunk = (msg as { chunk?: unknown }).chunk;
  return typeof chunk === 'string' ? chunk : undefined;
}

function isRequest(msg: StorageMessage): msg is Request {
  return REQUEST_TYPES.has(msg.t);
}
