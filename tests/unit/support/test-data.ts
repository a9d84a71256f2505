/** Small helpers shared by unit tests: deterministic file contents and the message a promise rejects with. */

/** `size` pseudo-random bytes from a seed (an LCG: the same seed gives the same bytes). */
export function fileBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The rejection message of `p`, or 'resolved' if it resolved. */
export async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  return 'resolved';
}
