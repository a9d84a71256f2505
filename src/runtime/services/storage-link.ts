/**
 * The link to a stored file: `nephele://<manifestId>#k=<base64url key>`. The manifest id (64-hex SHA-256 of the
 * sealed manifest chunk) says where to look; the fragment holds the file key, which is never sent to peers.
 */
import { NepheleError } from '../../core/errors.ts';
import { fromBase64Url, KEY_BYTES, toBase64Url } from './storage-crypto.ts';

export interface FileLink {
  readonly manifestId: string;
  readonly key: Uint8Array;
}

const LINK = /^nephele:\/\/([0-9a-f]{64})#k=([A-Za-z0-9_-]+)$/;

export function formatLink(link: FileLink): string {
  return `nephele://${link.manifestId}#k=${toBase64Url(link.key)}`;
}

/** Throws E_STORAGE_BAD_LINK for anything that is not a well-formed link with a 256-bit key. */
export function parseLink(text: string): FileLink {
  const m = LINK.exec(text.trim());
  const key = m ? fromBase64Url(m[2]!) : null;
  if (!m || !key || key.byteLength !== KEY_BYTES) {
    throw new NepheleError('E_STORAGE_BAD_LINK', 'expected nephele://<64 hex>#k=<base64url 256-bit key>');
  }
  return { manifestId: m[1]!, key };
}
