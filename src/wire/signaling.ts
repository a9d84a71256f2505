/**
 * Messages between a peer and the signaling server (JSON text over a WebSocket). Version 1.
 * The server only bootstraps (hands a joiner a few live peers of its cloud) and relays WebRTC signals.
 * See PROTOCOL.md for the exchange.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';

export const SIGNALING_VERSION = 1;
/** Largest text message either side accepts. */
export const MAX_SIGNALING_MESSAGE_BYTES = 16 * 1024;

const peerId = z.string().regex(/^[0-9a-f]{40}$/, 'a peer id is 40 lowercase hex characters');
const cloudName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a cloud name is 1-63 of a-z, 0-9 and -');
const b64 = z.string().max(4096).regex(/^[A-Za-z0-9+/=_-]*$/, 'base64');

/**
 * A WebRTC signal as simple-peer emits it (offer, answer, candidate, renegotiate, transceiverRequest), or the edge's
 * `{type: 'busy'}` refusal of an offer (src/net/edge.ts MAX_PENDING_LINKS).
 */
export const signalData = z
  .object({ type: z.string().max(32).optional(), sdp: z.string().max(12000).optional(), candidate: z.unknown().optional() })
  .passthrough();
export type SignalData = z.infer<typeof signalData>;

export const clientMessage = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('join'),
    v: z.literal(SIGNALING_VERSION),
    cloud: cloudName,
    peerId,
    /** Raw Ed25519 public key, base64. peerId must equal its derived id. */
    publicKey: b64,
    /** Ed25519 signature (base64) over `nephele-join|<cloud>|<peerId>|<nonce>` with the server's nonce. */
    signature: b64,
    /** For a private cloud: hex HMAC-SHA256(secret, `nephele-join|<cloud>|<peerId>|<nonce>`). */
    proof: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  }),
  z.object({ t: z.literal('signal'), v: z.literal(SIGNALING_VERSION), to: peerId, id: z.string().max(64), data: signalData }),
  z.object({ t: z.literal('discover'), v: z.literal(SIGNALING_VERSION) }),
]);
export type ClientMessage = z.infer<typeof clientMessage>;

export const serverMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), v: z.literal(SIGNALING_VERSION), nonce: z.string().max(128) }),
  z.object({ t: z.literal('welcome'), v: z.literal(SIGNALING_VERSION), peers: z.array(peerId).max(64) }),
  z.object({ t: z.literal('peers'), v: z.literal(SIGNALING_VERSION), peers: z.array(peerId).max(64) }),
  z.object({ t: z.literal('signal'), v: z.literal(SIGNALING_VERSION), from: peerId, id: z.string().max(64), data: signalData }),
  z.object({
    t: z.literal('error'),
    v: z.literal(SIGNALING_VERSION),
    code: z.string().max(64),
    message: z.string().max(1024),
    /** The `t` of the message that caused it, when known. */
    ref: z.string().max(32).optional(),
  }),
]);
export type ServerMessage = z.infer<typeof serverMessage>;

/** Stable error codes the server sends. */
export const SignalingErrors = {
  MALFORMED: 'E_MALFORMED',
  TOO_LARGE: 'E_TOO_LARGE',
  RATE_LIMITED: 'E_RATE_LIMITED',
  TOO_MANY_CONNECTIONS: 'E_TOO_MANY_CONNECTIONS',
  BAD_VERSION: 'E_BAD_VERSION',
  NOT_JOINED: 'E_NOT_JOINED',
  ALREADY_JOINED: 'E_ALREADY_JOINED',
  BAD_SIGNATURE: 'E_BAD_SIGNATURE',
  BAD_PROOF: 'E_BAD_PROOF',
  UNKNOWN_CLOUD: 'E_UNKNOWN_CLOUD',
  UNKNOWN_PEER: 'E_UNKNOWN_PEER',
  DUPLICATE_PEER: 'E_DUPLICATE_PEER',
} as const;

export function joinChallenge(cloud: string, peer: string, nonce: string): string {
  return `nephele-join|${cloud}|${peer}|${nonce}`;
}

function decodeText<T>(text: unknown, schema: z.ZodType<T>): Decoded<T> {
  if (typeof text !== 'string') return reject(SignalingErrors.MALFORMED, 'message must be JSON text');
  if (text.length > MAX_SIGNALING_MESSAGE_BYTES) return reject(SignalingErrors.TOO_LARGE, `message over ${MAX_SIGNALING_MESSAGE_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return reject(SignalingErrors.MALFORMED, 'message is not JSON');
  }
  if (json && typeof json === 'object' && 'v' in json && (json as { v: unknown }).v !== SIGNALING_VERSION) {
    return reject(SignalingErrors.BAD_VERSION, `protocol version ${String((json as { v: unknown }).v)} is not ${SIGNALING_VERSION}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(SignalingErrors.MALFORMED, issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid message');
  }
  return accept(parsed.data);
}

export const decodeClientMessage = (text: unknown): Decoded<ClientMessage> => decodeText(text, clientMessage);
export const decodeServerMessage = (text: unknown): Decoded<ServerMessage> => decodeText(text, serverMessage);
