/**
 * The network edge: WebRTC links to other peers of the cloud, authenticated by the link handshake, signaled
 * through the overlay when possible and through the signaling server otherwise (the server is needed only to
 * join). Runs in the connection-holding page (browser) or the Node peer; the node core sees only EdgeCommands
 * and EdgeEvents (types.ts).
 *
 * Links: connect() opens one (no-op if linked or pending); glare resolves to the lower peer id as initiator; a
 * link that is not up within 15 s fails with E_CONNECT_TIMEOUT; at the connection cap the least recently used
 * idle link is evicted, and incoming offers beyond the cap plus a little slack are ignored. At most
 * MAX_CONCURRENT_DIALS of our own dials run at once; further connects wait in a DialQueue (dial-queue.ts). With
 * MAX_PENDING_LINKS attempts (both directions) under way, a new peer's offer is refused with a `busy` signal, and a
 * dialer that hears it fails the attempt at once (E_PEER_BUSY).
 *
 * Joining: the bootstrap peers of the server's welcome are dialed at once (through the queue), instead of
 * waiting for the protocols' first messages to them, so the first link and the first gossip exchange come as
 * early as the network allows.
 *
 * A node whose every link failed (e.g. all its bootstrap peers were busy) has an empty gossip view and nobody
 * knows it, so it would stay alone for good: while joined with no authenticated link, the edge asks the server
 * for fresh peers (`discover`), backing off from ISOLATED_DISCOVER_MS to MAX_DISCOVER_MS.
 */
import { bytesToHex, shortId, type PeerId } from '../core/ids.ts';
import type { SignalData } from '../wire/signaling.ts';
import { LinkHandshake, type LinkAuthenticator } from './link-handshake.ts';
import type { ControlMessage } from './link-messages.ts';
import { OverlaySignaling } from './overlay-signaling.ts';
import { PeerLink } from './peer-link.ts';
import type { EdgePlatform } from './platform.ts';
import { SignalingClient } from './signaling-client.ts';
import { DialQueue } from './dial-queue.ts';
import { stage, type Link } from './link-entry.ts';
import { closeKind, countEdge, countFrame, markJoin } from './join-marks.ts';
import { CONNECT_TIMEOUT_MS, EVICTED_REASON, type EdgeCommands, type EdgeEvents } from './types.ts';
import {
  HANDSHAKE_TIMEOUT_MS, OVERLAY_FALLBACK_MS, INCOMING_SLACK, BOOTSTRAP_DIALS,
  MAX_CONCURRENT_DIALS, MAX_PENDING_LINKS, BUSY_SIGNAL, ISOLATED_DISCOVER_MS,
  EVICT_MIN_AGE_MS, MAX_BUFFERED_SIGNALS, MAX_ATTEMPTS, MAX_DISCOVER_MS,
} from './edge-limits.ts';

export type { EdgePlatform } from './platform.ts';

export interface NetworkEdgeOptions {
  readonly signalingUrl: string;
  readonly iceServers: RTCIceServer[];
  readonly maxConnections: number;
  readonly platform: EdgePlatform;
  readonly events: EdgeEvents;
  readonly authenticator: LinkAuthenticator;
  /** Defaults to CONNECT_TIMEOUT_MS; tests shorten it. */
  readonly connectTimeoutMs?: number;
  /** How many peers of each bootstrap (welcome or `peers`) the edge dials by itself; default BOOTSTRAP_DIALS. */
  readonly bootstrapDials?: number;
  /** Own dials under way at once; default MAX_CONCURRENT_DIALS. */
  readonly maxConcurrentDials?: number;
  /** Link attempts under way at once before offers are refused as busy; default MAX_PENDING_LINKS. */
  readonly maxPendingLinks?: number;
}

export { CONNECT_TIMEOUT_MS, EVICTED_REASON };
export {
  HANDSHAKE_TIMEOUT_MS, OVERLAY_FALLBACK_MS, INCOMING_SLACK, BOOTSTRAP_DIALS,
  MAX_CONCURRENT_DIALS, MAX_PENDING_LINKS, BUSY_SIGNAL, ISOLATED_DISCOVER_MS,
};

export class NetworkEdge implements EdgeCommands {
  private readonly links = new Map<PeerId, Link>();
  private readonly signaling: SignalingClient;
  private readonly overlay: OverlaySignaling;
  private readonly auth: LinkAuthenticator;
  private readonly events: EdgeEvents;
  private running = false;
  private isolationTimer: ReturnType<typeof setTimeout> | null = null;
  private discoverDelayMs = ISOLATED_DISCOVER_MS;
  private readonly queue: DialQueue;
  private readonly maxDials: number;
  private pumpQueued = false;

  constructor(private readonly opts: NetworkEdgeOptions) {
    this.auth = opts.authenticator;
    this.events = opts.events;
    this.queue = new DialQueue(opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    this.maxDials = opts.maxConcurrentDials ?? MAX_CONCURRENT_DIALS;
    this.signaling = new SignalingClient(opts.signalingUrl, opts.platform.WebSocket, this.auth, {
      state: (state) => {
        if (state === 'joined') this.watchIsolation();
        this.events.onSignalingState(state);
      },
      bootstrap: (peers) => {
        const others = peers.filter((p) => p !== this.auth.peerId);
        this.events.onBootstrap(others);
        for (const peer of others.slice(0, opts.bootstrapDials ?? BOOTSTRAP_DIALS)) this.connect(peer);
      },
      signal: (from, session, data) => this.incomingSignal(from, session, data, 'server'),
      log: (level, text) => this.events.onLog(level, text),
    });
    this.overlay = new OverlaySignaling({
      self: this.auth.peerId,
      linkedPeers: () => this.upPeers(),
      sendRelay: (via, message) => this.links.get(via)?.link.sendControl(message) ?? false,
      deliver: (from, session, data) => this.incomingSignal(from, session, data, 'overlay'),
      log: (level, text) => this.events.onLog(level, text),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.signaling.start();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.isolationTimer !== null) clearTimeout(this.isolationTimer);
    this.isolationTimer = null;
    this.queue.clear();
    this.signaling.stop();
    for (const peer of [...this.links.keys()]) this.drop(peer, 'edge stopped');
  }

  /** Peers with an authenticated link. */
  upPeers(): PeerId[] {
    const out: PeerId[] = [];
    for (const entry of this.links.values()) if (entry.up) out.push(entry.peer);
    return out;
  }

  send(to: PeerId, frame: Uint8Array): boolean {
    const entry = this.links.get(to);
    if (!entry?.up) return false;
    entry.lastActive = Date.now();
    countFrame('out', frame);
    return entry.link.sendFrame(frame);
  }

  connect(to: PeerId): void {
    if (!this.running || to === this.auth.peerId || this.links.has(to)) return;
    if (this.dialsUnderWay() >= this.maxDials) {
      if (!this.queue.has(to)) countEdge('dial-queued');
      this.queue.add(to);
      return;
    }
    if (this.links.size >= this.opts.maxConnections && !this.evictOne(null)) {
      this.events.onLog('info', `E_CONNECTION_CAP: not connecting to ${shortId(to)}, all ${this.opts.maxConnections} links busy`);
      this.events.onPeerDown(to, `E_CONNECTION_CAP: all ${this.opts.maxConnections} links busy`);
      countEdge('dial-refused-cap');
      return;
    }
    this.dial(to, 1);
  }

  disconnect(to: PeerId): void {
    this.queue.delete(to);
    this.drop(to, 'disconnected locally');
  }

  private attemptsUnderWay(): number {
    let n = 0;
    for (const entry of this.links.values()) if (!entry.up) n++;
    return n;
  }

  private dialsUnderWay(): number {
    let n = 0;
    for (const entry of this.links.values()) if (entry.initiator && !entry.up) n++;
    return n;
  }

  /** Starts queued dials while there is room (after the current event, so a redial takes its slot first). */
  private pumpSoon(): void {
    if (this.pumpQueued || this.queue.size === 0) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      while (this.running && this.dialsUnderWay() < this.maxDials) {
        const next = this.queue.next((peer, waitedMs) => {
          countEdge('dial-expired-in-queue');
          this.events.onPeerDown(peer, `E_CONNECT_TIMEOUT: no dial slot for ${shortId(peer)} within ${(waitedMs / 1000).toFixed(1)} s`);
        });
        if (next === null) return;
        this.connect(next);
      }
    });
  }

  private dial(to: PeerId, attempt: number): void {
    countEdge(attempt === 1 ? 'dial' : 'redial');
    const entry = this.open(to, bytesToHex(crypto.getRandomValues(new Uint8Array(8))), true, this.upPeers().length > 0 ? 'overlay' : 'server', attempt);
    if (entry.route === 'overlay') {
      entry.timers.push(setTimeout(() => {
        if (this.links.get(to) !== entry || entry.heardFromThem || !this.signaling.joined) return;
        this.events.onLog('info', `overlay signaling to ${shortId(to)} got no answer; using the signaling server`);
        countEdge('overlay-fallback');
        entry.route = 'server';
        for (const data of entry.sentSignals) this.signaling.sendSignal(to, entry.session, data);
      }, OVERLAY_FALLBACK_MS));
    }
  }

  private open(peer: PeerId, session: string, initiator: boolean, route: Link['route'], attempt = 1): Link {
    const now = Date.now();
    let entry: Link | null = null;
    const current = (): Link | null => (entry && this.links.get(peer) === entry ? entry : null);
    const link = new PeerLink(this.opts.platform, this.opts.iceServers, initiator, {
      signal: (data) => {
        const e = current();
        if (e) this.outgoingSignal(e, data);
      },
      open: () => {
        const e = current();
        if (!e) return;
        e.opened = true;
        markJoin('channel-open');
        e.handshake.start();
        e.timers.push(setTimeout(() => e.handshake.abort('E_HANDSHAKE_TIMEOUT', `no link handshake with ${shortId(peer)} within ${HANDSHAKE_TIMEOUT_MS / 1000} s`), HANDSHAKE_TIMEOUT_MS));
      },
      control: (message) => {
        const e = current();
        if (e) this.control(e, message);
      },
      frame: (frame) => {
        const e = current();
        if (!e?.up) return;
        e.lastActive = Date.now();
        countFrame('in', frame);
        this.events.onFrame(peer, frame);
      },
      rejected: (code, reason) => this.events.onLog('warn', `${code}: dropped a message from ${shortId(peer)}: ${reason}`),
      closed: (reason) => {
        const e = current();
        if (!e) return;
        // A WebRTC connection that dies before its channel opens is dialed again (node-datachannel does that now
        // and then); handshake failures are final.
        if (e.initiator && !e.opened && e.attempt < MAX_ATTEMPTS && this.running) {
          this.events.onLog('info', `${reason} with ${shortId(peer)}; trying again`);
          this.drop(peer, reason, false);
          this.dial(peer, e.attempt + 1);
          return;
        }
        this.drop(peer, reason);
      },
    });
    const handshake = new LinkHandshake(this.auth, peer, {
      send: (message) => link.sendControl(message),
      up: () => {
        const e = current();
        if (e) this.linkUp(e);
      },
      fail: (code, message) => {
        if (!current()) return;
        this.events.onLog('warn', `${code}: ${message}`);
        // Let the refuse message reach the other side before the channel closes.
        setTimeout(() => this.drop(peer, `${code}: ${message}`), 300);
      },
    });
    entry = {
      peer, session, initiator, link, handshake, createdAt: now, attempt, opened: false, up: false, lastActive: now, route,
      heardFromThem: false, gotOffer: false, gotAnswer: false, signalsSent: 0, signalsHeard: 0, sentSignals: [], timers: [],
    };
    this.links.set(peer, entry);
    const created = entry;
    const timeoutMs = this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    created.timers.push(setTimeout(() => {
      if (!current() || created.up) return;
      const reason = `E_CONNECT_TIMEOUT: no link to ${shortId(peer)} within ${timeoutMs / 1000} s (${stage(created)})`;
      const ice = / ICE (\w+), connection/.exec(created.link.describe())?.[1] ?? '-';
      countEdge(`timeout:${created.opened ? 'handshake' : created.heardFromThem ? `ice-${ice}` : created.initiator ? 'no-answer' : 'answered'}:${created.route}`);
      this.events.onLog('info', reason);
      this.drop(peer, reason);
    }, timeoutMs));
    return entry;
  }

  private outgoingSignal(entry: Link, data: SignalData): void {
    if (data.type === 'offer') markJoin('offer-sent');
    entry.signalsSent++;
    if (entry.sentSignals.length < MAX_BUFFERED_SIGNALS) entry.sentSignals.push(data);
    if (entry.route === 'overlay' && this.overlay.send(entry.peer, entry.session, data)) {
      countEdge('signal-out:overlay');
      return;
    }
    countEdge('signal-out:server');
    entry.route = 'server';
    this.signaling.sendSignal(entry.peer, entry.session, data);
  }

  private incomingSignal(from: PeerId, session: string, data: SignalData, via: Link['route']): void {
    if (!this.running || from === this.auth.peerId) return;
    const isOffer = data.type === 'offer';
    let entry = this.links.get(from);
    if (data.type === BUSY_SIGNAL) {
      if (entry && entry.session === session && entry.initiator && !entry.up) {
        countEdge('refused-busy');
        this.drop(from, `E_PEER_BUSY: ${shortId(from)} has too many link attempts under way`);
      }
      return;
    }
    if (entry && entry.session !== session) {
      if (!isOffer) return;
      if (entry.up) {
        // A peer dials only when it holds no link to us, so its side of this one is gone (we have not seen the
        // close yet). Ignoring the offer would leave it waiting for the connect timeout.
        if (Date.now() - entry.createdAt < EVICT_MIN_AGE_MS) return;
        this.drop(from, 'replaced: the peer dialed again, so its side of the old link is gone');
      } else {
        // Glare (both dialed at once): the lower peer id stays the initiator.
        if (entry.initiator && this.auth.peerId < from) return;
        this.drop(from, 'replaced by the peer\'s own connection attempt', false);
      }
      entry = undefined;
    }
    if (!entry) {
      if (!isOffer) return;
      if (this.links.size >= this.opts.maxConnections + INCOMING_SLACK) {
        this.events.onLog('info', `E_CONNECTION_CAP: ignored an offer from ${shortId(from)}`);
        countEdge('offer-ignored-cap');
        return;
      }
      if (this.attemptsUnderWay() >= (this.opts.maxPendingLinks ?? MAX_PENDING_LINKS)) {
        countEdge('offer-refused-busy');
        const busy: SignalData = { type: BUSY_SIGNAL };
        if (via === 'server' || !this.overlay.send(from, session, busy)) this.signaling.sendSignal(from, session, busy);
        return;
      }
      entry = this.open(from, session, false, via);
      countEdge('answered');
    }
    // Signals of a link that is up are late copies (the same signal by the other route); a second answer would
    // make simple-peer fail the connection.
    if (entry.up) return;
    entry.heardFromThem = true;
    entry.signalsHeard++;
    const newRoute = entry.route !== via;
    entry.route = via;
    if (isOffer) {
      if (entry.initiator) return;
      markJoin('offer-received');
      if (entry.gotOffer) {
        // The initiator sent its offer again by the other route: our answer did not reach it, so repeat
        // everything we sent (answer and candidates) the way its offer came this time.
        if (newRoute) this.resendSignals(entry);
        return;
      }
      entry.gotOffer = true;
    } else if (data.type === 'answer') {
      if (!entry.initiator || entry.gotAnswer) return;
      entry.gotAnswer = true;
      markJoin('answer-received');
    }
    entry.link.signal(data);
  }

  private resendSignals(entry: Link): void {
    this.events.onLog('info', `repeating ${entry.sentSignals.length} signal(s) to ${shortId(entry.peer)} via ${entry.route}`);
    for (const data of entry.sentSignals) {
      if (entry.route === 'server') this.signaling.sendSignal(entry.peer, entry.session, data);
      else this.overlay.send(entry.peer, entry.session, data);
    }
  }

  private control(entry: Link, message: ControlMessage): void {
    if (message.t === 'relay') {
      countEdge(message.to === this.auth.peerId ? 'relay-in:for-us' : 'relay-in:to-forward');
      if (entry.up) this.overlay.receive(entry.peer, message);
      return;
    }
    entry.handshake.receive(message);
  }

  private linkUp(entry: Link): void {
    markJoin('link-up');
    countEdge('link-up');
    entry.up = true;
    entry.lastActive = Date.now();
    for (const timer of entry.timers) clearTimeout(timer);
    entry.timers.length = 0;
    entry.sentSignals.length = 0;
    this.events.onLog('info', `link up: ${shortId(entry.peer)} (${entry.initiator ? 'dialed' : 'answered'} via ${entry.route})`);
    this.events.onPeerUp(entry.peer);
    if (this.links.size > this.opts.maxConnections) this.evictOne(entry.peer);
    this.pumpSoon();
  }

  /**
   * While joined, checks every `discoverDelayMs` whether the node is cut off: no authenticated link and no attempt
   * under way. Then it asks the server for peers (they reach the node as a bootstrap) and backs off.
   */
  private watchIsolation(): void {
    if (this.isolationTimer !== null || !this.running) return;
    this.isolationTimer = setTimeout(() => {
      this.isolationTimer = null;
      if (!this.running || !this.signaling.joined) return;
      if (this.links.size > 0 || this.queue.size > 0) this.discoverDelayMs = ISOLATED_DISCOVER_MS;
      else {
        this.events.onLog('info', 'no link and no attempt under way: asking the signaling server for peers');
        this.signaling.discover();
        this.discoverDelayMs = Math.min(this.discoverDelayMs * 2, MAX_DISCOVER_MS);
      }
      this.watchIsolation();
    }, this.discoverDelayMs);
  }

  /** Closes the least recently used idle link that is old enough; false if none qualifies. */
  private evictOne(keep: PeerId | null): boolean {
    const now = Date.now();
    let victim: Link | null = null;
    for (const entry of this.links.values()) {
      if (!entry.up || entry.peer === keep || now - entry.createdAt < EVICT_MIN_AGE_MS || !entry.link.isIdle) continue;
      if (!victim || entry.lastActive < victim.lastActive) victim = entry;
    }
    if (!victim) return false;
    this.drop(victim.peer, EVICTED_REASON);
    return true;
  }

  private drop(peer: PeerId, reason: string, announce = true): void {
    const entry = this.links.get(peer);
    if (!entry) return;
    this.links.delete(peer);
    countEdge(`${entry.up ? 'closed' : 'failed'}:${closeKind(reason)}`);
    for (const timer of entry.timers) clearTimeout(timer);
    entry.handshake.abort('E_LINK_CLOSED', reason);
    entry.link.close();
    this.overlay.linkDown(peer);
    if (announce) this.events.onPeerDown(peer, reason);
    this.pumpSoon();
  }
}
