/**
 * The link handshake: before a WebRTC link carries frames, both ends prove who they are and that they belong to
 * the same cloud. The signaling server (or an overlay relay) only introduced them and may be rogue, so peers
 * check each other again on every link.
 *
 *   both:  hello {peerId, publicKey, cloud, nonce}
 *   both:  proof {signature, proof?} over `nephele-link|<cloud>|<their nonce>|<my peerId>`
 *          (signature: Ed25519 with my key; proof: HMAC with the private cloud's secret, absent for public clouds)
 *   both:  accept, once the other's proof checks out — or refuse {code} and close
 *
 * The link is up when I accepted them and they accepted me. Ordered channel: hello comes before proof.
 */
import { bytesToHex, shortId, type PeerId } from '../core/ids.ts';
import { fromBase64, peerIdFromPublicKey, toBase64, verify } from '../identity/identity.ts';
import { LINK_VERSION, type ControlMessage } from './link-messages.ts';

export interface LinkAuthenticator {
  readonly peerId: PeerId;
  readonly publicKey: Uint8Array;
  readonly cloud: string;
  sign(text: string): Promise<Uint8Array>;
  proveSecret(text: string): Promise<string | null>;
  checkSecret(text: string, proof: string | undefined): Promise<boolean>;
}

export const LinkErrors = {
  BAD_PROOF: 'E_LINK_BAD_PROOF',
  BAD_SIGNATURE: 'E_LINK_BAD_SIGNATURE',
  WRONG_CLOUD: 'E_LINK_WRONG_CLOUD',
  WRONG_PEER: 'E_LINK_WRONG_PEER',
  PROTOCOL: 'E_LINK_PROTOCOL',
  REFUSED: 'E_LINK_REFUSED',
} as const;

export function linkChallenge(cloud: string, verifierNonce: string, prover: PeerId): string {
  return `nephele-link|${cloud}|${verifierNonce}|${prover}`;
}

export interface HandshakeEvents {
  send(message: ControlMessage): void;
  up(peer: PeerId): void;
  /** `fromPeer`: the other side refused us (so no refuse needs to be sent back). */
  fail(code: string, message: string, fromPeer: boolean): void;
}

type Hello = Extract<ControlMessage, { t: 'hello' }>;

export class LinkHandshake {
  private readonly nonce: string;
  private theirs: { hello: Hello; publicKey: Uint8Array } | null = null;
  private accepted = false;
  private acceptedByThem = false;
  private finished = false;
  private queue: Promise<void> = Promise.resolve();

  /** `expected`: the peer we dialed or whose signal we answered; the handshake must prove it is that peer. */
  constructor(
    private readonly auth: LinkAuthenticator,
    private readonly expected: PeerId,
    private readonly events: HandshakeEvents,
  ) {
    this.nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
  }

  start(): void {
    this.events.send({ t: 'hello', v: LINK_VERSION, peerId: this.auth.peerId, publicKey: toBase64(this.auth.publicKey), cloud: this.auth.cloud, nonce: this.nonce });
  }

  get done(): boolean {
    return this.finished;
  }

  /** Feeds one control message of the handshake; messages are handled one after another (signing is async). */
  receive(message: ControlMessage): void {
    this.queue = this.queue.then(() => (this.finished ? undefined : this.handle(message))).catch((err: unknown) => {
      this.failWith(LinkErrors.PROTOCOL, `handshake error: ${String(err)}`, false);
    });
  }

  private async handle(message: ControlMessage): Promise<void> {
    const who = shortId(this.expected);
    switch (message.t) {
      case 'hello': {
        if (this.theirs) return this.failWith(LinkErrors.PROTOCOL, `second hello from ${who}`, false);
        if (message.cloud !== this.auth.cloud) {
          return this.failWith(LinkErrors.WRONG_CLOUD, `${who} is in cloud "${message.cloud}", not "${this.auth.cloud}"`, false);
        }
        const publicKey = fromBase64(message.publicKey);
        if (publicKey.byteLength !== 32 || (await peerIdFromPublicKey(publicKey)) !== message.peerId) {
          return this.failWith(LinkErrors.BAD_SIGNATURE, `${who}'s public key does not match its peer id`, false);
        }
        if (message.peerId !== this.expected) {
          return this.failWith(LinkErrors.WRONG_PEER, `expected ${who}, found ${shortId(message.peerId)}`, false);
        }
        this.theirs = { hello: message, publicKey };
        const text = linkChallenge(this.auth.cloud, message.nonce, this.auth.peerId);
        const [signature, proof] = await Promise.all([this.auth.sign(text), this.auth.proveSecret(text)]);
        if (this.finished) return;
        this.events.send({ t: 'proof', v: LINK_VERSION, signature: toBase64(signature), ...(proof === null ? {} : { proof }) });
        return;
      }
      case 'proof': {
        if (!this.theirs || this.accepted) return this.failWith(LinkErrors.PROTOCOL, `unexpected proof from ${who}`, false);
        const text = linkChallenge(this.auth.cloud, this.nonce, this.theirs.hello.peerId);
        if (!(await verify(this.theirs.publicKey, fromBase64(message.signature), text))) {
          return this.failWith(LinkErrors.BAD_SIGNATURE, `${who}'s link signature is invalid`, false);
        }
        if (!(await this.auth.checkSecret(text, message.proof))) {
          return this.failWith(LinkErrors.BAD_PROOF, `${who} did not prove the cloud's secret`, false);
        }
        if (this.finished) return;
        this.accepted = true;
        this.events.send({ t: 'accept', v: LINK_VERSION });
        return this.maybeUp();
      }
      case 'accept':
        this.acceptedByThem = true;
        return this.maybeUp();
      case 'refuse':
        return this.failWith(message.code, `${who} refused the link: ${message.message}`, true);
      case 'relay':
        return;
    }
  }

  /** Gives up (timeout, channel closed): no event unless still running. */
  abort(code: string, message: string): void {
    if (!this.finished) this.failWith(code, message, false);
  }

  private maybeUp(): void {
    if (this.accepted && this.acceptedByThem && !this.finished && this.theirs) {
      this.finished = true;
      this.events.up(this.theirs.hello.peerId);
    }
  }

  private failWith(code: string, message: string, fromPeer: boolean): void {
    if (this.finished) return;
    this.finished = true;
    if (!fromPeer) this.events.send({ t: 'refuse', v: LINK_VERSION, code, message: message.slice(0, 512) });
    this.events.fail(code, message, fromPeer);
  }
}
