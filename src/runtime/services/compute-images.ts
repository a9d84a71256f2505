/**
 * Guest images by content hash, for the compute service: the store (a submitter's own images, pinned while its
 * jobs need them; a host's fetched images, in a byte-bounded LRU cache — memory only for now) and the fetcher
 * that pulls a missing image from a peer in chunks over the `images` frames (wire/images.ts), verifies its
 * sha256 and caches it. It also serves `get` requests from its store, so any holder can hand an image on.
 * A WASI job declares its image's size; an x86 domain names its images by hash only, so their size is taken
 * from the holder's first chunk, bounded by MAX_IMAGE_BYTES.
 */
import type { PeerId } from '../../core/ids.ts';
import { bytesToHex } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';
import { encodeFrame } from '../../wire/frame.ts';
import {
  IMAGE_CHUNK_BYTES, IMAGES_PROTOCOL, IMAGES_WIRE_VERSION as V, MAX_IMAGE_BYTES, type ImageChunkMessage, type ImagesMessage,
} from '../../wire/images.ts';

export const ImageErrors = {
  UNAVAILABLE: 'E_IMAGE_UNAVAILABLE',
  MISMATCH: 'E_IMAGE_MISMATCH',
} as const;

/** sha256 of `bytes` as 64 lowercase hex characters (WebCrypto: present in browsers, workers and Node 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', copy.buffer)));
}

export class ImageStore {
  private readonly pinned = new Map<string, { bytes: Uint8Array; refs: number }>();
  private readonly cached = new Map<string, Uint8Array>();
  private cachedBytes = 0;

  constructor(private readonly maxCacheBytes = 128 * 1024 * 1024) {}

  /** Keeps an image until as many `unpin`s (a submitter's image, one pin per job). */
  pin(sha256: string, bytes: Uint8Array): void {
    const entry = this.pinned.get(sha256);
    if (entry) entry.refs++;
    else this.pinned.set(sha256, { bytes, refs: 1 });
  }

  unpin(sha256: string): void {
    const entry = this.pinned.get(sha256);
    if (!entry) return;
    if (--entry.refs <= 0) this.pinned.delete(sha256);
  }

  /** Caches a verified image, evicting the least recently used beyond the byte budget. */
  cache(sha256: string, bytes: Uint8Array): void {
    if (this.cached.has(sha256) || bytes.byteLength > this.maxCacheBytes) return;
    this.cached.set(sha256, bytes);
    this.cachedBytes += bytes.byteLength;
    for (const [key, old] of this.cached) {
      if (this.cachedBytes <= this.maxCacheBytes) break;
      this.cached.delete(key);
      this.cachedBytes -= old.byteLength;
    }
  }

  get(sha256: string): Uint8Array | undefined {
    const pinned = this.pinned.get(sha256);
    if (pinned) return pinned.bytes;
    const hit = this.cached.get(sha256);
    if (hit) {
      this.cached.delete(sha256);
      this.cached.set(sha256, hit);
    }
    return hit;
  }

  stats(): { pinned: number; cached: number; cachedBytes: number } {
    return { pinned: this.pinned.size, cached: this.cached.size, cachedBytes: this.cachedBytes };
  }
}

export interface ImageFetcherDeps {
  readonly now: () => number;
  readonly sendFrame: (to: PeerId, frame: Uint8Array) => boolean;
  readonly connect: (to: PeerId) => void;
  readonly log: (level: 'info' | 'warn', text: string) => void;
}

interface Fetch {
  readonly sha256: string;
  readonly from: PeerId;
  /** Null until the first chunk tells the size (an image fetched without a declared size). */
  buffer: Uint8Array | null;
  received: number;
  lastActivity: number;
  /** A `get` could not be sent (no link yet): resend on peerUp. */
  waitingForLink: boolean;
  readonly waiters: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }[];
}

/** A fetch with no chunk for this long fails (the holder is gone or does not answer). */
export const IMAGE_FETCH_IDLE_MS = 20_000;

export class ImageFetcher {
  private readonly fetches = new Map<string, Fetch>();
  fetched = 0;
  served = 0;

  constructor(private readonly store: ImageStore, private readonly deps: ImageFetcherDeps) {}

  /**
   * The image's bytes: from the store, or fetched from `from` and verified. `size`, when known, must match the
   * holder's. Rejects with a NepheleError.
   */
  get(image: { readonly sha256: string; readonly size?: number }, from: PeerId): Promise<Uint8Array> {
    const have = this.store.get(image.sha256);
    if (have) return Promise.resolve(have);
    return new Promise<Uint8Array>((resolve, reject) => {
      const running = this.fetches.get(image.sha256);
      if (running) {
        running.waiters.push({ resolve, reject });
        return;
      }
      const fetch: Fetch = {
        sha256: image.sha256, from, buffer: image.size === undefined ? null : new Uint8Array(image.size), received: 0,
        lastActivity: this.deps.now(),
        waitingForLink: false, waiters: [{ resolve, reject }],
      };
      this.fetches.set(image.sha256, fetch);
      this.request(fetch);
    });
  }

  onMessage(from: PeerId, msg: ImagesMessage, body: Uint8Array): void {
    switch (msg.t) {
      case 'get':
        return this.serve(from, msg.sha256, msg.offset);
      case 'chunk':
        return this.onChunk(from, msg, body);
      case 'missing': {
        const fetch = this.fetches.get(msg.sha256);
        if (fetch?.from === from) this.fail(fetch, ImageErrors.UNAVAILABLE, `${from.slice(0, 8)} does not have image ${msg.sha256.slice(0, 12)}`);
        return;
      }
    }
  }

  peerUp(peer: PeerId): void {
    for (const fetch of this.fetches.values()) if (fetch.from === peer && fetch.waitingForLink) this.request(fetch);
  }

  peerDown(peer: PeerId): void {
    for (const fetch of [...this.fetches.values()]) {
      if (fetch.from === peer) this.fail(fetch, ImageErrors.UNAVAILABLE, `the link to ${peer.slice(0, 8)} closed while fetching an image`);
    }
  }

  tick(): void {
    const now = this.deps.now();
    for (const fetch of [...this.fetches.values()]) {
      if (now - fetch.lastActivity > IMAGE_FETCH_IDLE_MS) {
        this.fail(fetch, ImageErrors.UNAVAILABLE, `no image bytes from ${fetch.from.slice(0, 8)} for ${IMAGE_FETCH_IDLE_MS} ms`);
      }
    }
  }

  inFlight(): number {
    return this.fetches.size;
  }

  private request(fetch: Fetch): void {
    const frame = encodeFrame({ p: IMAGES_PROTOCOL, v: V, m: { v: V, t: 'get', sha256: fetch.sha256, offset: fetch.received } });
    fetch.waitingForLink = !this.deps.sendFrame(fetch.from, frame);
    if (fetch.waitingForLink) this.deps.connect(fetch.from);
  }

  private serve(to: PeerId, sha256: string, offset: number): void {
    const bytes = this.store.get(sha256);
    if (!bytes || offset >= bytes.byteLength) {
      this.deps.sendFrame(to, encodeFrame({ p: IMAGES_PROTOCOL, v: V, m: { v: V, t: 'missing', sha256 } }));
      return;
    }
    const body = bytes.subarray(offset, offset + IMAGE_CHUNK_BYTES);
    this.deps.sendFrame(to, encodeFrame({ p: IMAGES_PROTOCOL, v: V, m: { v: V, t: 'chunk', sha256, offset, total: bytes.byteLength } }, body));
    if (offset + body.byteLength >= bytes.byteLength) this.served++;
  }

  private onChunk(from: PeerId, msg: ImageChunkMessage, body: Uint8Array): void {
    const fetch = this.fetches.get(msg.sha256);
    // A chunk nobody asked for, or a repeat: ignore it (the holder answers each get once).
    if (!fetch || fetch.from !== from || msg.offset !== fetch.received) return;
    if (fetch.buffer === null && msg.total <= MAX_IMAGE_BYTES) fetch.buffer = new Uint8Array(msg.total);
    const buffer = fetch.buffer;
    if (buffer === null || msg.total !== buffer.byteLength) {
      this.fail(fetch, ImageErrors.MISMATCH, `image ${msg.sha256.slice(0, 12)} is ${msg.total} bytes, the job says ${buffer?.byteLength ?? `at most ${MAX_IMAGE_BYTES}`}`);
      return;
    }
    buffer.set(body, msg.offset);
    fetch.received += body.byteLength;
    fetch.lastActivity = this.deps.now();
    if (fetch.received < buffer.byteLength) {
      this.request(fetch);
      return;
    }
    void sha256Hex(buffer).then((actual) => {
      if (actual !== fetch.sha256) {
        this.fail(fetch, ImageErrors.MISMATCH, `bytes from ${from.slice(0, 8)} hash to ${actual.slice(0, 12)}, not ${fetch.sha256.slice(0, 12)}`);
        return;
      }
      this.fetches.delete(fetch.sha256);
      this.store.cache(fetch.sha256, buffer);
      this.fetched++;
      for (const w of fetch.waiters) w.resolve(buffer);
    });
  }

  private fail(fetch: Fetch, code: string, message: string): void {
    if (this.fetches.get(fetch.sha256) !== fetch) return;
    this.fetches.delete(fetch.sha256);
    this.deps.log('warn', `compute: ${code}: ${message}`);
    for (const w of fetch.waiters) w.reject(new NepheleError(code, message));
  }
}
