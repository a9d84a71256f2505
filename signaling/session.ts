/**
 * One WebSocket connection to the signaling server, as a small state machine: greeted (hello with a nonce)
 * → joined (identity proven, member of one cloud) → ended. Every incoming text goes through the rate limiter,
 * the size limit and the schema (src/wire/signaling.ts); a bad message gets an `error` reply with its code and
 * `ref`, and the connection stays open except for a bad signature or proof, a replaced peer, or abuse.
 *
 * Handling is serialised per connection (join verification is async), so a `signal` sent right after `join`
 * is processed after the join completes.
 */
import type { ClientMessage, ServerMessage } from '../src/wire/signaling.ts';
import { MAX_SIGNALING_MESSAGE_BYTES, SIGNALING_VERSION, SignalingErrors, decodeClientMessage, joinChallenge } from '../src/wire/signaling.ts';
import { fromBase64, peerIdFromPublicKey, secretProof, timingSafeEqualText, verify } from '../src/identity/identity.ts';
import type { PeerId } from '../src/core/ids.ts';
import type { CloudRooms } from './rooms.ts';
import type { SignalingMetrics } from './metrics.ts';
import type { ConnectionRateLimiter } from './rate-limit.ts';

/**
 * Peers handed out in `welcome` and `peers`: a whole gossip view (GOSSIP_VIEW_SIZE in src/runtime/gossip-slots.ts),
 * so a newcomer's view is full from its welcome in a cloud of up to 21 and holds all the server knows otherwise.
 * The joiner dials only a few of them (BOOTSTRAP_DIALS in src/net/edge.ts).
 */
export const SAMPLE_SIZE = 20;

/** WebSocket close codes the server uses. */
export const CloseCodes = {
  GOING_AWAY: 1001,
  POLICY: 1008,
  INTERNAL: 1011,
  /** A newer connection joined with the same peer id. */
  REPLACED: 4000,
} as const;

/** What a session needs from its socket; the server adapts a `ws` WebSocket to it. */
export interface SessionSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
  isOpen(): boolean;
}

export interface SessionContext {
  readonly rooms: CloudRooms<SignalingSession>;
  readonly metrics: SignalingMetrics;
  /** Private cloud name → shared secret. */
  readonly privateClouds: ReadonlyMap<string, string>;
  readonly now: () => number;
}

type Ref = string | undefined;

export class SignalingSession {
  private membership: { readonly cloud: string; readonly peerId: PeerId } | null = null;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly socket: SessionSocket,
    private readonly limiter: ConnectionRateLimiter,
    readonly nonce: string,
  ) {}

  get peerId(): PeerId | undefined {
    return this.membership?.peerId;
  }

  start(): void {
    this.send({ t: 'hello', v: SIGNALING_VERSION, nonce: this.nonce });
  }

  /** One incoming WebSocket message. */
  receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    const verdict = this.limiter.admit(this.ctx.now());
    if (verdict === 'abuse') {
      this.ctx.metrics.reject(SignalingErrors.RATE_LIMITED);
      return this.close(CloseCodes.POLICY, 'rate limit exceeded repeatedly');
    }
    if (verdict === 'drop') return void this.ctx.metrics.reject(SignalingErrors.RATE_LIMITED);
    if (verdict === 'limit') return this.fail(SignalingErrors.RATE_LIMITED, 'too many messages; slow down', undefined);
    if (isBinary) return this.fail(SignalingErrors.MALFORMED, 'binary messages are not accepted; send JSON text', undefined);
    if (data.byteLength > MAX_SIGNALING_MESSAGE_BYTES) {
      return this.fail(SignalingErrors.TOO_LARGE, `message of ${data.byteLength} bytes is over ${MAX_SIGNALING_MESSAGE_BYTES}`, undefined);
    }
    const text = data.toString('utf8');
    const decoded = decodeClientMessage(text);
    if (!decoded.ok) return this.fail(decoded.code, decoded.reason, refOf(text));
    const msg = decoded.value;
    this.queue = this.queue
      .then(() => this.handle(msg))
      .catch(() => this.close(CloseCodes.INTERNAL, 'internal error'));
  }

  /** The socket closed (by either side): leave the cloud. */
  ended(): void {
    this.closed = true;
    if (this.membership) this.ctx.rooms.leave(this.membership.cloud, this.membership.peerId, this);
    this.membership = null;
  }

  /** A newer connection joined as the same peer: tell this one why and close it. */
  evict(): void {
    this.fail(SignalingErrors.DUPLICATE_PEER, 'the same peer joined again from a newer connection', 'join');
    this.membership = null;
    this.close(CloseCodes.REPLACED, 'replaced by a newer connection');
  }

  deliver(msg: ServerMessage): void {
    this.send(msg);
  }

  private async handle(msg: ClientMessage): Promise<void> {
    if (this.closed) return;
    if (msg.t === 'join') return this.join(msg);
    const me = this.membership;
    if (!me) return this.fail(SignalingErrors.NOT_JOINED, `send join before ${msg.t}`, msg.t);
    if (msg.t === 'discover') {
      return this.send({ t: 'peers', v: SIGNALING_VERSION, peers: this.ctx.rooms.sample(me.cloud, SAMPLE_SIZE, me.peerId) });
    }
    const target = this.ctx.rooms.get(me.cloud, msg.to);
    if (!target) return this.fail(SignalingErrors.UNKNOWN_PEER, `peer ${msg.to} is not in this cloud`, msg.t);
    this.ctx.metrics.relays++;
    target.deliver({ t: 'signal', v: SIGNALING_VERSION, from: me.peerId, id: msg.id, data: msg.data });
  }

  private async join(msg: Extract<ClientMessage, { t: 'join' }>): Promise<void> {
    if (this.membership) return this.fail(SignalingErrors.ALREADY_JOINED, `already joined cloud ${this.membership.cloud}`, 'join');
    const badSignature = (why: string): void => {
      this.fail(SignalingErrors.BAD_SIGNATURE, why, 'join');
      this.close(CloseCodes.POLICY, 'bad signature');
    };
    let publicKey: Uint8Array;
    let signature: Uint8Array;
    try {
      publicKey = fromBase64(msg.publicKey);
      signature = fromBase64(msg.signature);
    } catch {
      return badSignature('publicKey and signature must be standard base64');
    }
    if (publicKey.byteLength !== 32) return badSignature('publicKey must be a raw 32-byte Ed25519 key');
    if ((await peerIdFromPublicKey(publicKey)) !== msg.peerId) return badSignature('peerId does not match publicKey');
    const challenge = joinChallenge(msg.cloud, msg.peerId, this.nonce);
    if (!(await verify(publicKey, signature, challenge))) return badSignature('signature does not verify over the join challenge');
    const secret = this.ctx.privateClouds.get(msg.cloud);
    if (secret !== undefined) {
      const expected = await secretProof(secret, challenge);
      if (msg.proof === undefined || !timingSafeEqualText(expected, msg.proof)) {
        this.fail(SignalingErrors.BAD_PROOF, `cloud ${msg.cloud} is private; the proof of its secret is wrong`, 'join');
        return this.close(CloseCodes.POLICY, 'bad proof');
      }
    }
    if (this.closed || !this.socket.isOpen()) return;
    this.membership = { cloud: msg.cloud, peerId: msg.peerId };
    const replaced = this.ctx.rooms.join(msg.cloud, msg.peerId, this);
    if (replaced && replaced !== this) replaced.evict();
    this.ctx.metrics.joins++;
    this.send({ t: 'welcome', v: SIGNALING_VERSION, peers: this.ctx.rooms.sample(msg.cloud, SAMPLE_SIZE, msg.peerId) });
  }

  private fail(code: string, message: string, ref: Ref): void {
    this.ctx.metrics.reject(code);
    const reply: Extract<ServerMessage, { t: 'error' }> = { t: 'error', v: SIGNALING_VERSION, code, message: message.slice(0, 1024) };
    if (ref !== undefined) reply.ref = ref;
    this.send(reply);
  }

  private send(msg: ServerMessage): void {
    if (this.socket.isOpen()) this.socket.send(JSON.stringify(msg));
  }

  private close(code: number, reason: string): void {
    if (this.closed) return;
    this.ended();
    this.socket.close(code, reason);
  }
}

/** The `t` of a message that failed validation, when it has a plausible one (for the error's `ref`). */
function refOf(text: string): string | undefined {
  try {
    const json: unknown = JSON.parse(text);
    if (json && typeof json === 'object' && 't' in json) {
      const t = (json as { t: unknown }).t;
      if (typeof t === 'string' && t.length <= 32) return t;
    }
  } catch {
    /* not JSON: no ref */
  }
  return undefined;
}
