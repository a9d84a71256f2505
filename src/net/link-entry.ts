/**
 * The edge's record of one link or link attempt (edge.ts), and how far an attempt got, for timeout messages a
 * reader can act on.
 */
import type { PeerId } from '../core/ids.ts';
import type { SignalData } from '../wire/signaling.ts';
import type { LinkHandshake } from './link-handshake.ts';
import type { PeerLink } from './peer-link.ts';

export interface Link {
  readonly peer: PeerId;
  readonly session: string;
  readonly initiator: boolean;
  readonly link: PeerLink;
  readonly handshake: LinkHandshake;
  readonly createdAt: number;
  readonly attempt: number;
  opened: boolean;
  up: boolean;
  lastActive: number;
  /** How signals reach the peer: the way its last signal came, else the overlay if we have links. */
  route: 'overlay' | 'server';
  heardFromThem: boolean;
  gotOffer: boolean;
  gotAnswer: boolean;
  signalsSent: number;
  signalsHeard: number;
  readonly sentSignals: SignalData[];
  readonly timers: ReturnType<typeof setTimeout>[];
}

/** How far a link got, for timeouts a reader can act on. */
export function stage(entry: Link): string {
  const counts = `${entry.signalsSent} signal(s) sent, ${entry.signalsHeard} heard, now via ${entry.route}`;
  if (entry.opened) return `channel open, handshake unfinished; ${counts}`;
  if (entry.heardFromThem) return `WebRTC connection not open; ${counts}; ${entry.link.describe()}`;
  return `${entry.initiator ? 'no answer' : 'answered, nothing since'}; ${counts}`;
}
