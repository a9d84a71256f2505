/**
 * Two real PeerLinks over node-datachannel WebRTC in this process: small frames sent after a large frame arrive
 * before the large one has finished (they overtake its queued fragments), in the order they were sent, and the
 * large frames still arrive whole and in their own order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nodePlatform } from '../../src/net/platform-node.ts';
import { PeerLink, type PeerLinkEvents } from '../../src/net/peer-link.ts';

interface End {
  readonly link: PeerLink;
  readonly frames: Uint8Array[];
  open: boolean;
  rejected: string[];
}

const links: PeerLink[] = [];
afterEach(() => {
  for (const l of links.splice(0)) l.close();
});

function pair(): { a: End; b: End } {
  const platform = nodePlatform();
  let a: End | null = null;
  let b: End | null = null;
  const events = (self: () => End, other: () => End): PeerLinkEvents => ({
    signal: (data) => other().link.signal(data),
    open: () => {
      self().open = true;
    },
    control: () => {},
    frame: (f) => self().frames.push(f),
    rejected: (code, reason) => self().rejected.push(`${code}: ${reason}`),
    closed: () => {},
  });
  a = { link: new PeerLink(platform, [], true, events(() => a!, () => b!)), frames: [], open: false, rejected: [] };
  b = { link: new PeerLink(platform, [], false, events(() => b!, () => a!)), frames: [], open: false, rejected: [] };
  links.push(a.link, b.link);
  return { a, b };
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tagged(tag: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + tag) & 0xff;
  out[0] = tag;
  return out;
}

describe('PeerLink over node-datachannel', () => {
  it('small frames sent behind large ones overtake their fragments; every frame arrives whole', async () => {
    const { a, b } = pair();
    await until('both ends open', () => a.open && b.open);
    const large = [tagged(1, 6 * 1024 * 1024 + 5), tagged(2, 3 * 1024 * 1024)];
    for (const f of large) expect(a.link.sendFrame(f)).toBe(true);
    const small = Array.from({ length: 20 }, (_, i) => tagged(10 + i, 200 + i));
    for (const f of small) expect(a.link.sendFrame(f)).toBe(true);
    await until('all frames delivered', () => b.frames.length === large.length + small.length);
    expect(b.rejected).toEqual([]);
    const order = b.frames.map((f) => f[0]);
    // All 20 small frames came before the first large frame was complete.
    expect(order.slice(0, small.length)).toEqual(small.map((f) => f[0]));
    expect(order.slice(small.length)).toEqual([1, 2]);
    for (const f of [...large, ...small]) {
      const got = b.frames.find((r) => r[0] === f[0]);
      expect(got && Buffer.compare(got, f)).toBe(0);
    }
    expect(a.link.isIdle).toBe(true);
  });
});
