/** Link messages: control messages round-trip and are validated; anything else is a named rejection. */
import { describe, expect, it } from 'vitest';
import { decodeLinkMessage, encodeControl, KIND_CONTROL, MAX_CONTROL_BYTES, type ControlMessage } from '../../src/net/link-messages.ts';
import { splitFrame } from '../../src/net/fragmenter.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

function code(bytes: Uint8Array): string {
  const d = decodeLinkMessage(bytes);
  return d.ok ? 'ok' : d.code;
}

function raw(json: unknown): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(json));
  const out = new Uint8Array(text.byteLength + 1);
  out[0] = KIND_CONTROL;
  out.set(text, 1);
  return out;
}

describe('link messages', () => {
  it('round-trips every control message', () => {
    const messages: ControlMessage[] = [
      { t: 'hello', v: 1, peerId: A, publicKey: 'AAAA', cloud: 'lab', nonce: '0'.repeat(32) },
      { t: 'proof', v: 1, signature: 'c2ln', proof: 'f'.repeat(64) },
      { t: 'proof', v: 1, signature: 'c2ln' },
      { t: 'accept', v: 1 },
      { t: 'refuse', v: 1, code: 'E_LINK_BAD_PROOF', message: 'no' },
      { t: 'relay', v: 1, id: 'x.1', session: 's1', from: A, to: B, ttl: 3, data: { type: 'offer', sdp: 'v=0' } },
    ];
    for (const m of messages) {
      const d = decodeLinkMessage(encodeControl(m));
      expect(d.ok && d.value.kind === 'control' ? d.value.message : null).toEqual(m);
    }
  });

  it('passes data chunks through as data', () => {
    const [chunk] = splitFrame(1, new Uint8Array([1, 2, 3]));
    const d = decodeLinkMessage(chunk!);
    expect(d.ok && d.value.kind).toBe('data');
  });

  it('rejects empty, unknown, non-JSON, oversize and invalid messages with named codes', () => {
    expect(code(new Uint8Array(0))).toBe('E_LINK_EMPTY');
    expect(code(new Uint8Array([9, 1]))).toBe('E_LINK_UNKNOWN_KIND');
    expect(code(new Uint8Array([KIND_CONTROL, 0xff, 0xfe]))).toBe('E_LINK_MALFORMED');
    expect(code(raw({ t: 'accept', v: 1, pad: 'x'.repeat(MAX_CONTROL_BYTES) }))).toBe('E_LINK_TOO_LARGE');
    expect(code(raw({ t: 'accept', v: 2 }))).toBe('E_LINK_MALFORMED');
    expect(code(raw({ t: 'nope', v: 1 }))).toBe('E_LINK_MALFORMED');
    expect(code(raw({ t: 'hello', v: 1, peerId: 'XYZ', publicKey: 'AAAA', cloud: 'lab', nonce: '0'.repeat(32) }))).toBe('E_LINK_MALFORMED');
    expect(code(raw({ t: 'relay', v: 1, id: 'i', session: 's', from: A, to: B, ttl: 4, data: {} }))).toBe('E_LINK_MALFORMED');
    expect(code(raw({ t: 'refuse', v: 1, code: 'rm -rf', message: '' }))).toBe('E_LINK_MALFORMED');
  });
});
