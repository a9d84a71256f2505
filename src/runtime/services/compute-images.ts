/**
 * Guest images by content hash, for the compute service: the store (a submitter's own images, pinned while its
 * jobs need them; recently used images in a byte-bounded memory LRU) and the fetcher that gets an image a host
 * lacks, in order, from its persistent cache (compute-image-cache.ts, IndexedDB in the browser), from the DHT by
 * the storage link the job carries (compute-image-dht.ts), or from the submitter in chunks over the `images`
 * frames (wire/images.ts) — a small module (under DHT_FIRST_MIN_BYTES) is asked of the submitter before the DHT;
 * every way verifies the sha256, and what came over the network is cached. It also
 * serves `get` requests from its store and cache, so any holder can hand an image on.
 * A WASI job declares its image's size; an x86 domain names its images by hash only, so their size is taken
 * from the holder's first chunk, bounded by MAX_IMAGE_BYTES.
 */
import type { PeerId } from '../../core/ids.ts';
import { bytesToHex } from '../../core/ids.ts';
import { NepheleError } from '../../core/errors.ts';
import { encodeFrame } from '../../wire/frame.ts';
import type { ImageCache } from './compute-image-cache.ts';
import { getImageFromDht, messageOf, type ServiceCommand } from './compute-image-dht.ts';
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
  /** Commands to other services of the node (storage `get` for the DHT path); absent: no DHT. */
  readonly command?: ServiceCommand;
}

export interface ImageFetcherOptions {
  /** The persistent cache; null keeps fetched images in memory only. */
  readonly cache?: ImageCache | null;
  /** False: answer every image request `missing` (test hook: a submitter that refuses to serve). */
  readonly serve?: boolean;
}

/** Where a host's image came from (the compute panel shows the counts). */
export type ImageSource = 'cache' | 'dht' | 'submitter';

/**
 * Images of at least this declared size are got from the DHT before the submitter: they are what loads a
 * submitter's uplink when many hosts start at once. A smaller one costs the submitter little over the link the
 * host already has, while a DHT get first looks up its manifest and replicas (often over new links), which
 * measurably delayed the first tasks of small jobs; for those the DHT is the fallback. Images without a declared
 * size (an x86 domain's, input files by hash) count as large.
 */
export const DHT_FIRST_MIN_BYTES = 1024 * 1024;

/** Storage links remembered from leases, by sha256; the oldest are forgotten beyond this. */
const MAX_KNOWN_LINKS = 512;

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
  private readonly acquiring = new Map<string, Promise<Uint8Array>>();
  private readonly links = new Map<string, string>();
  private readonly cache: ImageCache | null;
  private readonly serving: boolean;
  /** Images got over the network (DHT or submitter). */
  fetched = 0;
  served = 0;
  readonly from: Record<ImageSource, number> = { cache: 0, dht: 0, submitter: 0 };
  /** DHT gets that failed or were refused (the host then asked the submitter). */
  dhtFailures = 0;

  constructor(private readonly store: ImageStore, private readonly deps: ImageFetcherDeps, options: ImageFetcherOptions = {}) {
    this.cache = options.cache ?? null;
    this.serving = options.serve ?? true;
  }

  /** Remembers the storage links a leased job's image carries (job-model.ts `links`). */
  learnLinks(links: Readonly<Record<string, string>> | undefined): void {
    for (const [sha256, link] of Object.entries(links ?? {})) {
      this.links.delete(sha256);
      this.links.set(sha256, link);
    }
    for (const oldest of this.links.keys()) {
      if (this.links.size <= MAX_KNOWN_LINKS) break;
      this.links.delete(oldest);
    }
  }

  /**
   * The image's bytes: from the store, the persistent cache, the DHT (by a learned link) or fetched from `from`,
   * verified each way. `size`, when known, must match. Rejects with a NepheleError.
   */
  get(image: { readonly sha256: string; readonly size?: number }, from: PeerId): Promise<Uint8Array> {
    const have = this.store.get(image.sha256);
    if (have) return Promise.resolve(have);
    let running = this.acquiring.get(image.sha256);
    if (!running) {
      running = this.acquire(image, from).finally(() => this.acquiring.delete(image.sha256));
      this.acquiring.set(image.sha256, running);
    }
    return running;
  }

  private async acquire(image: { readonly sha256: string; readonly size?: number }, from: PeerId): Promise<Uint8Array> {
    // Without a cache or a link the submitter is asked synchronously, as the idle clock expects.
    const cached = this.cache ? await this.cache.get(image.sha256) : undefined;
    if (cached && (image.size === undefined || cached.byteLength === image.size)) {
      this.store.cache(image.sha256, cached);
      this.from.cache++;
      return cached;
    }
    const link = this.links.get(image.sha256);
    const small = image.size !== undefined && image.size < DHT_FIRST_MIN_BYTES;
    if (link !== undefined && !small) {
      const bytes = await this.fromDht(image, link, from);
      if (bytes) return bytes;
    }
    try {
      const bytes = await this.fetchFrom(image, from);
      this.keep(image.sha256, bytes, 'submitter');
      return bytes;
    } catch (err) {
      // A small image is asked of the submitter first; the DHT is its fallback when the submitter cannot serve.
      const bytes = link !== undefined && small ? await this.fromDht(image, link, from) : undefined;
      if (!bytes) throw err;
      return bytes;
    }
  }

  /** The verified image from the DHT, or undefined (logged) if storage cannot give it. */
  private async fromDht(image: { readonly sha256: string; readonly size?: number }, link: string, from: PeerId): Promise<Uint8Array | undefined> {
    if (!this.deps.command) return undefined;
    try {
      const bytes = await getImageFromDht(this.deps.command, link, image);
      this.keep(image.sha256, bytes, 'dht');
      return bytes;
    } catch (err) {
      this.dhtFailures++;
      this.deps.log('warn', `compute: image ${image.sha256.slice(0, 12)} not from the DHT (${messageOf(err)}); ${from.slice(0, 8)} is the other source`);
      return undefined;
    }
  }

  private keep(sha256: string, bytes: Uint8Array, source: ImageSource): void {
    this.store.cache(sha256, bytes);
    this.fetched++;
    this.from[source]++;
    void this.cache?.put(sha256, bytes);
  }

  private fetchFrom(image: { readonly sha256: string; readonly size?: number }, from: PeerId): Promise<Uint8Array> {
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
    const bytes = this.serving ? this.store.get(sha256) : undefined;
    if (!bytes && this.serving && this.cache) {
      // Not in memory: a host can still hand on an image from its persistent cache.
      void this.cache.get(sha256).then((held) => {
        if (held) this.store.cache(sha256, held);
        this.sendChunk(to, sha256, offset, held);
      });
      return;
    }
    this.sendChunk(to, sha256, offset, bytes);
  }

  private sendChunk(to: PeerId, sha256: string, offset: number, bytes: Uint8Array | undefined): void {
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
