/**
 * What travels on one WebRTC data channel between two Nephele peers. The first byte says the kind:
 *
 *   0x01 control | UTF-8 JSON (hello, proof, accept, refuse, relay), at most 16 KiB, zod-validated
 *   0x02 data    | one chunk of a frame (see fragmenter.ts)
 *
 * Control messages run the link handshake (link-handshake.ts) and carry overlay signaling (overlay-signaling.ts);
 * data chunks carry frames (wire/frame.ts) for the node core, only after the handshake.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';
import { signalData } from '../wire/signaling.ts';

export const LINK_VERSION = 1;
export const KIND_CONTROL = 0x01;
export const KIND_DATA = 0x02;
export const MAX_CONTROL_BYTES = 16 * 1024;
/** Overlay signals travel at most this many hops. */
export const MAX_RELAY_TTL = 3;

const peerId = z.string().regex(/^[0-9a-f]{40}$/);
const b64 = z.string().max(200).regex(/^[A-Za-z0-9+/=]*$/);

export const controlMessage = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('hello'), v: z.literal(LINK_VERSION), peerId, publicKey: b64,
    cloud: z.string().max(63), nonce: z.string().regex(/^[0-9a-f]{32}$/),
  }),
  z.object({ t: z.literal('proof'), v: z.literal(LINK_VERSION), signature: b64, proof: z.string().regex(/^[0-9a-f]{64}$/).optional() }),
  z.object({ t: z.literal('accept'), v: z.literal(LINK_VERSION) }),
  z.object({ t: z.literal('refuse'), v: z.literal(LINK_VERSION), code: z.string().regex(/^E_[A-Z_]{1,60}$/), message: z.string().max(512) }),
  z.object({
    t: z.literal('relay'), v: z.literal(LINK_VERSION),
    /** Unique per relayed message (dedup). */
    id: z.string().min(1).max(64),
    /** Names the connection attempt the signal belongs to. */
    session: z.string().min(1).max(32),
    from: peerId, to: peerId,
    ttl: z.number().int().min(0).max(MAX_RELAY_TTL),
    data: signalData,
  }),
]);
export type ControlMessage = z.infer<typeof controlMessage>;
export type RelayMessage = Extract<ControlMessage, { t: 'relay' }>;

export type LinkMessage = { readonly kind: 'control'; readonly message: ControlMessage } | { readonly kind: 'data'; readonly bytes: Uint8Array };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeControl(message: ControlMessage): Uint8Array {
  const json = encoder.encode(JSON.stringify(message));
  const out = new Uint8Array(1 + json.byteLength);
  out[0] = KIND_CONTROL;
  out.set(json, 1);
  return out;
}

/** Sorts a received channel message by kind; control messages are fully validated, data chunks by fragmenter.ts. */
export function decodeLinkMessage(bytes: Uint8Array): Decoded<LinkMessage> {
  if (bytes.byteLength === 0) return reject('E_LINK_EMPTY', 'empty link message');
  if (bytes[0] === KIND_DATA) return accept({ kind: 'data', bytes });
  if (bytes[0] !== KIND_CONTROL) return reject('E_LINK_UNKNOWN_KIND', `unknown link message kind ${bytes[0]}`);
  if (bytes.byteLength - 1 > MAX_CONTROL_BYTES) return reject('E_LINK_TOO_LARGE', `control message of ${bytes.byteLength - 1} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes.subarray(1)));
  } catch {
    return reject('E_LINK_MALFORMED', 'control message is not UTF-8 JSON');
  }
  const parsed = controlMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject('E_LINK_MALFORMED', issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid control message');
  }
  return accept({ kind: 'control', message: parsed.data });
}
