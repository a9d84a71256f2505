/**
 * Client-side encryption of stored files: AES-256-GCM (WebCrypto, present in browsers, workers and Node 20) with a
 * random key per file. Each sealed chunk is `iv (12 bytes) | ciphertext+tag`, with a fresh random IV, so peers
 * only ever see ciphertext and the content address (SHA-256 of the sealed bytes) reveals nothing of the plaintext.
 * The key never leaves the link (`#k=…`, see storage-link.ts).
 */
import { bytesToHex } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';

export const KEY_BYTES = 32;
const IV_BYTES = 12;
export const SEAL_OVERHEAD = IV_BYTES + 16;

export function newFileKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(KEY_BYTES));
}

async function importKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.byteLength !== KEY_BYTES) throw new NepheleError('E_STORAGE_BAD_KEY', `a file key is ${KEY_BYTES} bytes, got ${raw.byteLength}`);
  return crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

export async function seal(key: Uint8Array, plain: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const cipher = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await importKey(key), plain as Uint8Array<ArrayBuffer>);
  const out = new Uint8Array(IV_BYTES + cipher.byteLength);
  out.set(iv, 0);
  out.set(new Uint8Array(cipher), IV_BYTES);
  return out;
}

/** Throws E_STORAGE_DECRYPT when the key is wrong or the bytes were altered (GCM authenticates them). */
export async function open(key: Uint8Array, sealed: Uint8Array): Promise<Uint8Array> {
  if (sealed.byteLength < SEAL_OVERHEAD) throw new NepheleError('E_STORAGE_DECRYPT', 'sealed chunk too short');
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: sealed.subarray(0, IV_BYTES) as Uint8Array<ArrayBuffer> },
      await importKey(key),
      sealed.subarray(IV_BYTES) as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(plain);
  } catch {
    throw new NepheleError('E_STORAGE_DECRYPT', 'the chunk does not decrypt with this link\'s key (wrong key or altered bytes)');
  }
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

export function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Returns null for anything that is not base64url. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  try {
    const bin = atob(b64);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
