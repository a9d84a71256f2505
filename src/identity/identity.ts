/**
 * Node identity: an Ed25519 key pair (WebCrypto, available in browsers, workers and Node 20) and the peer id
 * derived from its public key. Also the shared-secret proof that admits a peer to a private cloud.
 */
import { bytesToHex, type PeerId } from '../core/ids.ts';

export interface Identity {
  readonly peerId: PeerId;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  readonly privateKey: CryptoKey;
}

const encoder = new TextEncoder();

export async function peerIdFromPublicKey(publicKey: Uint8Array): Promise<PeerId> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', publicKey as BufferSource));
  return bytesToHex(digest.subarray(0, 20));
}

export async function generateIdentity(extractable = false): Promise<Identity> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, extractable, ['sign', 'verify'])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { peerId: await peerIdFromPublicKey(publicKey), publicKey, privateKey: pair.privateKey };
}

export async function sign(identity: Identity, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, identity.privateKey, encoder.encode(text)));
}

/** True when `signature` is `publicKey`'s Ed25519 signature over `text`. Never throws. */
export async function verify(publicKey: Uint8Array, signature: Uint8Array, text: string): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey('raw', publicKey as BufferSource, { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature as BufferSource, encoder.encode(text));
  } catch {
    return false;
  }
}

/** hex HMAC-SHA256(secret, text): proof of knowing a private cloud's secret, bound to a challenge. */
export async function secretProof(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return bytesToHex(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(text))));
}

/** Constant-time comparison of two equal-length strings. */
export function timingSafeEqualText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
