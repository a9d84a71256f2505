/**
 * The client side of the signaling server (protocol in wire/signaling.ts): join with a signature over the
 * server's nonce (and a secret proof for private clouds), receive bootstrap peers, send and receive WebRTC
 * signals. The server is needed only to join: when it goes away the client reconnects with backoff, while
 * links already open (and overlay signaling) keep working without it. A refusal (bad proof or signature) is
 * final: no reconnect.
 */
import type { PeerId } from '../core/ids.ts';
import { toBase64 } from '../identity/identity.ts';
import {
  SIGNALING_VERSION, SignalingErrors, decodeServerMessage, joinChallenge, type ClientMessage, type SignalData,
} from '../wire/signaling.ts';
import type { LinkAuthenticator } from './link-handshake.ts';
import type { SignalingState } from './types.ts';
import type { SocketFactory, SocketLike } from './platform.ts';
import { markJoin } from './join-marks.ts';

export interface SignalingClientEvents {
  state(state: SignalingState): void;
  bootstrap(peers: readonly PeerId[]): void;
  signal(from: PeerId, session: string, data: SignalData): void;
  log(level: 'info' | 'warn', text: string): void;
}

const OPEN = 1;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
const FINAL_CODES: ReadonlySet<string> = new Set([SignalingErrors.BAD_PROOF, SignalingErrors.BAD_SIGNATURE, SignalingErrors.UNKNOWN_CLOUD]);

export class SignalingClient {
  private socket: SocketLike | null = null;
  private state: SignalingState = 'closed';
  private stopped = true;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly url: string,
    private readonly WebSocketImpl: SocketFactory,
    private readonly auth: LinkAuthenticator,
    private readonly events: SignalingClientEvents,
  ) {}

  get joined(): boolean {
    return this.state === 'joined';
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = socket.onmessage = socket.onerror = socket.onopen = null;
      try {
        socket.close();
      } catch {
        // closing a socket that never opened
      }
    }
    this.setState('closed');
  }

  /** Sends a WebRTC signal through the server; false if not joined. */
  sendSignal(to: PeerId, session: string, data: SignalData): boolean {
    return this.joined && this.send({ t: 'signal', v: SIGNALING_VERSION, to, id: session, data });
  }

  /** Asks the server for more peers of the cloud (answered with `peers`). */
  discover(): void {
    if (this.joined) this.send({ t: 'discover', v: SIGNALING_VERSION });
  }

  private open(): void {
    this.setState('connecting');
    let socket: SocketLike;
    try {
      socket = new this.WebSocketImpl(this.url);
    } catch (err) {
      this.events.log('warn', `E_SIGNALING_UNREACHABLE: ${String(err)}`);
      return this.scheduleRetry();
    }
    this.socket = socket;
    socket.onmessage = (event) => void this.receive(socket, event.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.state === 'refused') return;
      this.setState('closed');
      this.scheduleRetry();
    };
    socket.onopen = () => markJoin('socket-open');
    socket.onerror = () => {
      // onclose follows and decides; nothing to add.
    };
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer !== null) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped && this.socket === null) this.open();
    }, delay);
  }

  private async receive(socket: SocketLike, raw: unknown): Promise<void> {
    if (socket !== this.socket) return;
    const text = typeof raw === 'string' ? raw : raw instanceof Uint8Array || raw instanceof ArrayBuffer ? new TextDecoder().decode(raw) : raw;
    const decoded = decodeServerMessage(text);
    if (!decoded.ok) {
      this.events.log('warn', `signaling: dropped a bad server message (${decoded.code}: ${decoded.reason})`);
      return;
    }
    const msg = decoded.value;
    switch (msg.t) {
      case 'hello': {
        const challenge = joinChallenge(this.auth.cloud, this.auth.peerId, msg.nonce);
        const [signature, proof] = await Promise.all([this.auth.sign(challenge), this.auth.proveSecret(challenge)]);
        if (socket !== this.socket) return;
        markJoin('join-sent');
        this.send({
          t: 'join', v: SIGNALING_VERSION, cloud: this.auth.cloud, peerId: this.auth.peerId,
          publicKey: toBase64(this.auth.publicKey), signature: toBase64(signature), ...(proof === null ? {} : { proof }),
        });
        return;
      }
      case 'welcome':
        this.retryMs = FIRST_RETRY_MS;
        markJoin('bootstrap');
        this.setState('joined');
        this.events.bootstrap(msg.peers);
        return;
      case 'peers':
        this.events.bootstrap(msg.peers);
        return;
      case 'signal':
        this.events.signal(msg.from, msg.id, msg.data);
        return;
      case 'error':
        if (FINAL_CODES.has(msg.code)) {
          this.events.log('warn', `signaling refused the join: ${msg.code}: ${msg.message}`);
          this.setState('refused');
          this.stopped = true;
          socket.close();
          return;
        }
        this.events.log(msg.code === SignalingErrors.UNKNOWN_PEER ? 'info' : 'warn', `signaling error ${msg.code}: ${msg.message}`);
        return;
    }
  }

  private send(msg: ClientMessage): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(msg));
    return true;
  }

  private setState(state: SignalingState): void {
    if (state === this.state) return;
    this.state = state;
    this.events.state(state);
  }
}
