/**
 * The edge's limits and timings (src/net/edge.ts): how many links and attempts a node runs at once, how long each
 * step may take, and what the server's bootstrap is dialed with.
 */

export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Without an answer through the overlay by then, an attempt is signaled again through the server. */
export const OVERLAY_FALLBACK_MS = 2_500;
/** Incoming offers accepted beyond the cap (the surplus is evicted once up). */
export const INCOMING_SLACK = 2;
/** A link younger than this is not evicted (avoids churning links that were just opened). */
export const EVICT_MIN_AGE_MS = 2_000;
export const MAX_BUFFERED_SIGNALS = 64;
/** A dial whose WebRTC connection fails before the channel opens is tried this often in all. */
export const MAX_ATTEMPTS = 3;
/**
 * Bootstrap peers dialed at once. The server hands out a whole gossip view (signaling/session.ts SAMPLE_SIZE = 20),
 * which fills the view; links to the rest are opened when the protocols first address them.
 */
export const BOOTSTRAP_DIALS = 4;
/** Why a cap: dial-queue.ts. 3 keeps a newcomer's first link as early as with no cap; not tuned further. */
export const MAX_CONCURRENT_DIALS = 3;
/**
 * Link attempts (own dials and answered offers) under way at once; a new peer's offer beyond it is refused with a
 * `busy` signal, so its dialer frees its dial slot at once instead of after the connect timeout. At 32 peers on 2
 * cores, unbounded answering had ≈ 6 attempts per node under way, 90 % of them timing out (ICE still checking).
 */
export const MAX_PENDING_LINKS = 6;
/** The signal that refuses an offer (see MAX_PENDING_LINKS); simple-peer never emits this type. */
export const BUSY_SIGNAL = 'busy';
/** How often (while joined) the edge checks whether it is cut off: no link up and no attempt under way. */
export const ISOLATED_DISCOVER_MS = 4_000;
export const MAX_DISCOVER_MS = 60_000;
