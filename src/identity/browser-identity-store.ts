/**
 * Keeps the node's identity in IndexedDB (idb-keyval) so the peer id is stable across reloads. The private key
 * is a non-extractable CryptoKey: IndexedDB stores it by structured clone, and no script can read its bytes.
 */
import { get, set } from 'idb-keyval';
import { generateIdentity, peerIdFromPublicKey, type Identity } from './identity.ts';

const IDENTITY_KEY = 'nephele.identity.v1';

interface StoredIdentity {
  readonly publicKey: Uint8Array;
  readonly privateKey: CryptoKey;
}

export async function loadOrCreateIdentity(): Promise<Identity> {
  const create = async (): Promise<Identity> => {
    const stored = await get<StoredIdentity>(IDENTITY_KEY);
    if (stored?.privateKey && stored.publicKey) {
      return { peerId: await peerIdFromPublicKey(stored.publicKey), publicKey: stored.publicKey, privateKey: stored.privateKey };
    }
    const fresh = await generateIdentity(false);
    await set(IDENTITY_KEY, { publicKey: fresh.publicKey, privateKey: fresh.privateKey } satisfies StoredIdentity);
    return fresh;
  };
  // Two dedicated-worker fallbacks of one profile must not mint two identities at once.
  return navigator.locks ? navigator.locks.request('nephele-identity', create) : create();
}

export async function loadCloudSecret(cloud: string): Promise<string | null> {
  return (await get<string>(`nephele.secret.${cloud}`)) ?? null;
}

export async function saveCloudSecret(cloud: string, secret: string): Promise<void> {
  await set(`nephele.secret.${cloud}`, secret);
}
