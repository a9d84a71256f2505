/**
 * Ring arithmetic on Chord's 160-bit identifier circle (Stoica et al., "Chord: A Scalable Peer-to-peer Lookup
 * Protocol for Internet Applications", IEEE/ACM ToN 11(1), 2003, §4). A node's position is its PeerId read as a
 * 160-bit number; a key's position is the first 160 bits of its SHA-256, which callers hand us as 40 hex
 * characters (hashing is async WebCrypto, so it happens outside the pure protocol).
 *
 * Intervals are clockwise and wrap at 2^160. By Chord's convention an interval whose two ends are equal covers the
 * whole circle (minus the end for open intervals): a node alone on the ring owns every key.
 */
import type { PeerId } from '../../core/ids.ts';

export const RING_BITS = 160;
export const RING_SIZE = 1n << BigInt(RING_BITS);
const MASK = RING_SIZE - 1n;
const ID_PATTERN = /^[0-9a-f]{40}$/;

/** A node on the ring: its id and that id as a number (computed once). */
export interface RingNode {
  readonly id: PeerId;
  readonly pos: bigint;
}

/** Position of a 40-hex id or key. Throws E_CHORD_BAD_ID on anything else (callers validate at the boundary). */
export function positionOf(hex: string): bigint {
  if (!ID_PATTERN.test(hex)) throw new Error(`E_CHORD_BAD_ID: not a 40-hex ring id: ${hex.slice(0, 48)}`);
  return BigInt('0x' + hex);
}

export function ringNode(id: PeerId): RingNode {
  return { id, pos: positionOf(id) };
}

/** A position written back as 40 lowercase hex characters. */
export function hexOf(pos: bigint): string {
  return (((pos % RING_SIZE) + RING_SIZE) & MASK).toString(16).padStart(40, '0');
}

/** (a + b) mod 2^160. */
export function add(a: bigint, b: bigint): bigint {
  return (a + b) & MASK;
}

/** Clockwise distance from a to b, in [0, 2^160). */
export function distance(a: bigint, b: bigint): bigint {
  const d = b - a;
  return d < 0n ? d + RING_SIZE : d;
}

/** x ∈ (a, b) clockwise; (a, a) is the whole ring except a. */
export function inOpen(x: bigint, a: bigint, b: bigint): boolean {
  if (a === b) return x !== a;
  const dx = distance(a, x);
  return dx > 0n && dx < distance(a, b);
}

/** x ∈ (a, b] clockwise; (a, a] is the whole ring. */
export function inHalfOpen(x: bigint, a: bigint, b: bigint): boolean {
  if (a === b) return true;
  const dx = distance(a, x);
  return dx > 0n && dx <= distance(a, b);
}

/** The start of finger i of node n: (n + 2^i) mod 2^160, for 0 <= i < 160. */
export function fingerStart(n: bigint, i: number): bigint {
  return add(n, 1n << BigInt(i));
}
