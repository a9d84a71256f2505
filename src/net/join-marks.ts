/**
 * Join milestones, for measuring where a node's join time goes (issue #2): the first time this realm passes each
 * stage of joining (worker started, identity loaded, signaling socket open, bootstrap, first offer, ICE connected,
 * channel open, link handshake done, first gossip exchange, view of n peers) becomes a performance mark named
 * `nephele:join:<stage>`. Marks are recorded once per realm and cost nothing afterwards.
 *
 * The node's stages happen in two realms (the SharedWorker and the connection-holding page); the worker's marks
 * are forwarded to the page over the edge port (runtime/edge-port.ts) as epoch times and re-marked there, so the
 * page's timeline holds them all, in ms since that page's navigation. The join bench reads them.
 *
 * Beside the marks, the edge keeps running counts of what it does (links dialed, up, closed and why, signals by
 * route, relays, frames per protocol) in this realm, for the idle bench's per-node churn table (countEdge).
 */

import { EVICTED_REASON } from './types.ts';

export const JOIN_MARK_PREFIX = 'nephele:join:';

/** The stages in the order a join normally passes them (view:<n> marks follow the last). */
export const JOIN_STAGES = [
  'page-start', 'worker-start', 'identity-ready', 'node-connected', 'edge-start', 'socket-open', 'join-sent', 'bootstrap',
  'offer-sent', 'offer-received', 'answer-received', 'ice-connected', 'channel-open', 'link-up', 'cyclon-received',
  'cyclon-reply',
] as const;

export type JoinStage = (typeof JOIN_STAGES)[number] | `view:${number}`;

type Listener = (stage: string, epochMs: number) => void;

const seen = new Map<string, number>();
const listeners = new Set<Listener>();

function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Records `stage` the first time it is reached in this realm (later calls are ignored). */
export function markJoin(stage: JoinStage | string, epochMs: number = epochNow()): void {
  if (seen.has(stage)) return;
  seen.set(stage, epochMs);
  try {
    performance.mark(JOIN_MARK_PREFIX + stage, { startTime: Math.max(0, epochMs - performance.timeOrigin) });
  } catch {
    // a runtime without user timing: the map above still answers joinMarks()
  }
  for (const listener of listeners) listener(stage, epochMs);
}

/** Every stage recorded so far in this realm, with its epoch time (ms). */
export function joinMarks(): [string, number][] {
  return [...seen];
}

/** Calls `listener` with every stage recorded so far and every later one; returns the unsubscribe function. */
export function onJoinMark(listener: Listener): () => void {
  for (const [stage, at] of seen) listener(stage, at);
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The global the benches read the edge's counts from (page.evaluate cannot reach module scope). */
export const EDGE_COUNTS_GLOBAL = '__nepheleEdgeCounts';

const counts: Record<string, number> = {};
(globalThis as Record<string, unknown>)[EDGE_COUNTS_GLOBAL] = counts;
/** Distinct names counted at most: frame names come from peers, so beyond this new ones count under `other`. */
const MAX_COUNT_NAMES = 128;
let names = 0;

/** Adds `by` to the realm's running count `name` (cheap: one property update). */
export function countEdge(name: string, by = 1): void {
  const known = counts[name];
  if (known !== undefined) {
    counts[name] = known + by;
    return;
  }
  const key = names < MAX_COUNT_NAMES ? name : 'other';
  if (key === name) names++;
  counts[key] = (counts[key] ?? 0) + by;
}

/** A copy of the running counts. */
export function edgeCounts(): Record<string, number> {
  return { ...counts };
}

/**
 * Counts a frame under `<direction>:<protocol>`, the protocol read from the frame's JSON header without parsing it
 * (wire/frame.ts: u32 length, then `{"p":"<name>",…` as encodeFrame writes envelopes); `?` when it does not fit.
 */
export function countFrame(direction: 'in' | 'out', frame: Uint8Array): void {
  let name = '?';
  // 4 length bytes + `{"p":"` (6 bytes) = offset 10
  if (frame.byteLength > 12 && frame[4] === 0x7b && frame[5] === 0x22 && frame[6] === 0x70 && frame[7] === 0x22) {
    let end = 10;
    while (end < frame.byteLength && end < 42 && frame[end] !== 0x22) end++;
    if (frame[end] === 0x22) name = String.fromCharCode(...frame.subarray(10, end));
  }
  countEdge(`${direction}:${name}`);
}

/** A short name for why a link closed, for the edge's counts (countEdge). */
export function closeKind(reason: string): string {
  if (reason === EVICTED_REASON) return 'evicted';
  const code = /^(E_[A-Z_]+|ERR_[A-Z_]+)/.exec(reason)?.[1];
  if (code) return code;
  if (reason.startsWith('replaced')) return 'replaced';
  if (reason.startsWith('disconnected locally')) return 'disconnect';
  if (reason === 'edge stopped') return 'stopped';
  return reason.slice(0, 24);
}
