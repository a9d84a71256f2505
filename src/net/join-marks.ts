/**
 * Join milestones, for measuring where a node's join time goes (issue #2): the first time this realm passes each
 * stage of joining (worker started, identity loaded, signaling socket open, bootstrap, first offer, ICE connected,
 * channel open, link handshake done, first gossip exchange, view of n peers) becomes a performance mark named
 * `nephele:join:<stage>`. Marks are recorded once per realm and cost nothing afterwards.
 *
 * The node's stages happen in two realms (the SharedWorker and the connection-holding page); the worker's marks
 * are forwarded to the page over the edge port (runtime/edge-port.ts) as epoch times and re-marked there, so the
 * page's timeline holds them all, in ms since that page's navigation. The join bench reads them.
 */

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
