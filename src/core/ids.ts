/**
 * Peer identifiers. A peer id is the first 20 bytes (160 bits, Chord's identifier space) of the SHA-256 of the
 * peer's raw Ed25519 public key, written as 40 lowercase hex characters.
 */
export type PeerId = string;

export const PEER_ID_HEX_LENGTH = 40;
const PEER_ID_PATTERN = /^[0-9a-f]{40}$/;

export function isPeerId(value: unknown): value is PeerId {
  return typeof value === 'string' && PEER_ID_PATTERN.test(value);
}

export function shortId(id: PeerId): string {
  return id.slice(0, 8);
}

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error(`E_BAD_HEX: not a hex string`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
