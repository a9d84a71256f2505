/**
 * The Node peer's identity on disk: a PKCS#8 Ed25519 private key and its raw public key in a JSON file with
 * mode 0600, so an always-on provider keeps its peer id across restarts.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fromBase64, generateIdentity, peerIdFromPublicKey, toBase64, type Identity } from '../identity/identity.ts';

interface IdentityFile {
  readonly version: 1;
  readonly publicKey: string;
  readonly privateKeyPkcs8: string;
}

export async function loadOrCreateIdentityFile(path: string): Promise<Identity> {
  try {
    const stored = JSON.parse(await readFile(path, 'utf8')) as IdentityFile;
    if (stored.version !== 1) throw new Error(`E_IDENTITY_VERSION: ${path} has version ${String(stored.version)}`);
    const publicKey = fromBase64(stored.publicKey);
    const privateKey = await crypto.subtle.importKey('pkcs8', fromBase64(stored.privateKeyPkcs8) as BufferSource, { name: 'Ed25519' }, false, ['sign']);
    return { peerId: await peerIdFromPublicKey(publicKey), publicKey, privateKey };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const fresh = await generateIdentity(true);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', fresh.privateKey));
  await mkdir(dirname(path), { recursive: true });
  const file: IdentityFile = { version: 1, publicKey: toBase64(fresh.publicKey), privateKeyPkcs8: toBase64(pkcs8) };
  await writeFile(path, JSON.stringify(file), { mode: 0o600 });
  return fresh;
}
