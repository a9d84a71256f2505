import { describe, expect, it } from 'vitest';
import { ProtocolHost } from '../../src/runtime/protocol-host.ts';
import { createRng } from '../../src/core/rng.ts';
import { accept, reject } from '../../src/core/errors.ts';
import { decodeFrame } from '../../src/wire/frame.ts';
import type { Protocol } from '../../src/core/protocol.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** A ping protocol: each tick pings B; answers pings with pongs; remembers who went down. */
function pingProtocol(log: string[]): Protocol<{ kind: 'ping' | 'pong' }> {
  return {
    name: 'ping',
    onTick: () => [{ kind: 'send', to: B, msg: { kind: 'ping' } }],
    onMessage: (_ctx, from, msg) => {
      log.push(`${msg.kind} from ${from[0]}`);
      return msg.kind === 'ping' ? [{ kind: 'send', to: from, msg: { kind: 'pong' } }] : [];
    },
    onPeerDown: (_ctx, peer) => {
      log.push(`down ${peer[0]}`);
      return [];
    },
  };
}

function setup(linked: Set<string>, cycleOnFirstLink = false) {
  let now = 0;
  const sent: { to: string; frame: Uint8Array }[] = [];
  const connects: string[] = [];
  const events: string[] = [];
  const host = new ProtocolHost({
    self: A, rng: createRng(1), now: () => now,
    sendFrame: (to, frame) => {
      if (!linked.has(to)) return false;
      sent.push({ to, frame });
      return true;
    },
    connect: (to) => connects.push(to),
    log: () => {},
    pendingTimeoutMs: 1000,
  });
  host.add({
    protocol: pingProtocol(events), version: 1,
    decode: (m) => (m && typeof m === 'object' && 'kind' in m ? accept(m as { kind: 'ping' | 'pong' }) : reject('E_BAD', 'no kind')),
    cycleOnFirstLink,
  });
  return { host, sent, connects, events, advance: (ms: number) => (now += ms) };
}

describe('ProtocolHost', () => {
  it('wraps send effects in versioned envelopes', () => {
    const t = setup(new Set([B]));
    t.host.tick();
    expect(t.sent).toHaveLength(1);
    const frame = decodeFrame(t.sent[0]!.frame);
    expect(frame.ok && frame.value.header).toEqual({ p: 'ping', v: 1, m: { kind: 'ping' } });
  });

  it('holds messages for an unlinked peer, asks for a link, and flushes when it comes up', () => {
    const linked = new Set<string>();
    const t = setup(linked);
    t.host.tick();
    t.host.tick();
    expect(t.connects).toEqual([B]);
    expect(t.sent).toHaveLength(0);
    linked.add(B);
    t.host.peerUp(B);
    expect(t.sent.map((s) => s.to)).toEqual([B, B]);
  });

  it('runs one extra cycle of a slot that asks for it when the first link opens, and only then', () => {
    const linked = new Set([B]);
    const eager = setup(linked, true);
    eager.host.peerUp(B);
    expect(eager.sent.map((s) => s.to)).toEqual([B]);
    eager.host.peerUp(B);
    eager.host.peerDown(B);
    eager.host.peerUp(B);
    expect(eager.sent).toHaveLength(1);
    const plain = setup(linked);
    plain.host.peerUp(B);
    expect(plain.sent).toHaveLength(0);
  });

  it('declares a peer down when no link opens in time', () => {
    const t = setup(new Set());
    t.host.tick();
    t.advance(1500);
    t.host.tick();
    expect(t.events).toContain('down b');
  });

  it('counts and drops bad messages and wrong versions without reaching the protocol', () => {
    const t = setup(new Set([B]));
    expect(t.host.deliver(B, 'ping', 1, { nope: true })).toBe(true);
    expect(t.host.deliver(B, 'ping', 2, { kind: 'ping' })).toBe(true);
    expect(t.host.deliver(B, 'other', 1, {})).toBe(false);
    expect(t.host.rejected).toBe(2);
    expect(t.events).toEqual([]);
    t.host.deliver(B, 'ping', 1, { kind: 'ping' });
    expect(t.events).toEqual(['ping from b']);
    expect(t.sent).toHaveLength(1);
  });
});
