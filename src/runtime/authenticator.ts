/**
 * What the network edge needs from the node's identity: signatures and private-cloud proofs. The private key
 * never leaves the thread that owns it; the edge calls these (through comlink when it lives in a page).
 */
import { secretProof, sign, timingSafeEqualText, type Identity } from '../identity/identity.ts';

export interface IdentityAuthority {
  sign(text: string): Promise<Uint8Array>;
  proveSecret(text: string): Promise<string | null>;
  checkSecret(text: string, proof: string | undefined): Promise<boolean>;
}

export function identityAuthority(identity: Identity, secret: () => string | null): IdentityAuthority {
  return {
    sign: (text) => sign(identity, text),
    proveSecret: async (text) => {
      const s = secret();
      return s === null ? null : secretProof(s, text);
    },
    checkSecret: async (text, proof) => {
      const s = secret();
      if (s === null) return true;
      if (proof === undefined) return false;
      return timingSafeEqualText(await secretProof(s, text), proof);
    },
  };
}
