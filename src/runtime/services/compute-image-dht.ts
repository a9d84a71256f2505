/**
 * Guest images through the DHT (issue #5, with the storage issue): a submitter stores each image of a job with
 * the storage service (`put` → a `nephele://…#k=…` link, r = 3 replicas on the Chord ring) and the job's image
 * carries those links by sha256 (job-model.ts `imageLinksSchema`); a host missing an image `get`s it from storage
 * and checks its sha256 before using it. Both go through `ServiceDeps.command`, so a node without a storage
 * service (or one off the ring) simply has no links and falls back to the submitter.
 */
import { NepheleError } from '../../core/errors.ts';
import { MAX_IMAGE_BYTES } from '../../wire/images.ts';
import { MAX_IMAGE_LINKS, parseJobSpec } from '../../protocols/scheduler/job-model.ts';
import { ImageErrors, sha256Hex } from './compute-images.ts';

export type ServiceCommand = (service: string, command: string, args: unknown) => Promise<unknown>;

/**
 * A submit waits at most this long for its images to be stored (a small module takes well under a second); the
 * job is published without links after, and hosts fetch from the submitter as before.
 */
export const IMAGE_PUT_TIMEOUT_MS = 5_000;
/** A host waits at most this long for an image from storage before asking the submitter. */
export const IMAGE_DHT_GET_TIMEOUT_MS = 20_000;

/**
 * Stores the images (at most MAX_IMAGE_LINKS, in the given order) and answers their links by sha256; an image
 * this node stored before (this session) reuses its link. Images that could not be stored are left out (logged).
 */
export async function putImagesInDht(
  command: ServiceCommand,
  images: ReadonlyMap<string, Uint8Array>,
  known: Map<string, string>,
  log: (level: 'info' | 'warn', text: string) => void,
  timeoutMs = IMAGE_PUT_TIMEOUT_MS,
): Promise<Record<string, string>> {
  const links: Record<string, string> = {};
  const wanted = [...images].slice(0, MAX_IMAGE_LINKS);
  const puts = wanted.map(async ([sha256, bytes]) => {
    const had = known.get(sha256);
    if (had) return void (links[sha256] = had);
    // A put that outlives the timeout still completes: later jobs of the same image then carry its link.
    const put = command('storage', 'put', { name: `image-${sha256.slice(0, 16)}`, bytes }).then((answer) => {
      const link = (answer as { link?: unknown } | null)?.link;
      if (typeof link !== 'string') throw new NepheleError('E_IMAGE_PUT_FAILED', 'storage answered no link');
      known.set(sha256, link);
      return link;
    });
    put.catch(() => undefined);
    links[sha256] = await withTimeout(put, timeoutMs);
  });
  const settled = await Promise.allSettled(puts);
  const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed.length > 0) {
    const why = messageOf(failed[0]!.reason);
    const level = failed.every((f) => (f.reason as { code?: unknown })?.code === 'E_UNKNOWN_SERVICE') ? 'info' : 'warn';
    log(level, `compute: ${failed.length} of ${wanted.length} images not stored in the DHT (${why}); hosts fetch them from this node`);
  }
  return links;
}

/**
 * A valid job spec with its images stored in the DHT and their links named in its image (job-model.ts `links`);
 * the spec unchanged if it is invalid (the scheduler will say why) or nothing could be stored.
 */
export async function withImageLinks(
  spec: Record<string, unknown>,
  images: ReadonlyMap<string, Uint8Array>,
  command: ServiceCommand,
  known: Map<string, string>,
  log: (level: 'info' | 'warn', text: string) => void,
): Promise<Record<string, unknown>> {
  const parsed = parseJobSpec(spec);
  if (!parsed.ok || images.size === 0) return spec;
  const links = await putImagesInDht(command, images, known, log);
  if (Object.keys(links).length === 0) return spec;
  return { ...spec, image: { ...parsed.value.image, links } };
}

/** The image behind `link`, verified against `sha256` (and `size` when the job declares one). Rejects coded. */
export async function getImageFromDht(
  command: ServiceCommand,
  link: string,
  image: { readonly sha256: string; readonly size?: number },
  timeoutMs = IMAGE_DHT_GET_TIMEOUT_MS,
): Promise<Uint8Array> {
  const answer = await withTimeout(command('storage', 'get', { link }), timeoutMs);
  const bytes = (answer as { bytes?: unknown } | null)?.bytes;
  if (!(bytes instanceof Uint8Array)) throw new NepheleError(ImageErrors.UNAVAILABLE, 'storage answered no bytes');
  if (bytes.byteLength > MAX_IMAGE_BYTES || (image.size !== undefined && bytes.byteLength !== image.size)) {
    throw new NepheleError(ImageErrors.MISMATCH, `the DHT's image ${image.sha256.slice(0, 12)} is ${bytes.byteLength} bytes, the job says ${image.size ?? `at most ${MAX_IMAGE_BYTES}`}`);
  }
  const actual = await sha256Hex(bytes);
  if (actual !== image.sha256) {
    throw new NepheleError(ImageErrors.MISMATCH, `bytes from the DHT hash to ${actual.slice(0, 12)}, not ${image.sha256.slice(0, 12)}`);
  }
  return bytes;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new NepheleError('E_IMAGE_DHT_TIMEOUT', `storage did not answer within ${ms} ms`)), ms);
    work.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (err: unknown) => { clearTimeout(timer); reject(err); },
    );
  });
}

export function messageOf(err: unknown): string {
  if (err instanceof NepheleError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
