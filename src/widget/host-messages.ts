/**
 * The widget's narrow postMessage API with the page that embeds it (public/embed.js is the other side).
 * Out: `status` (lending state, opted in or out, contribution totals, the height the widget wants) — no peer id,
 * keys, jobs or data. In: only `get-status`. A message counts only if it comes from the parent window AND from
 * the partner origin resolved at start; anything else (other frames, other origins, unknown or malformed
 * messages, attempts to opt in or submit work) is counted and dropped. Consent is given by a click inside the
 * widget, never by a message.
 */
import { z } from 'zod/mini';

export const WIDGET_SOURCE = 'nephele-widget';
export const HOST_SOURCE = 'nephele-host';
export const WIDGET_WIRE_VERSION = 1;

export type LendingState = 'asking' | 'declined' | 'starting' | 'lending' | 'paused' | 'stopped' | 'error';

export interface WidgetStatus {
  readonly cloud: string;
  readonly state: LendingState;
  readonly optedIn: boolean;
  /** Why lending is paused (`hidden`, `battery`, `save-data`); empty when not paused. */
  readonly pausedBecause: readonly string[];
  /** Peers this node is linked to. */
  readonly links: number;
  readonly tasksRun: number;
  /** Sandbox time lent, seconds (one decimal). */
  readonly cpuSeconds: number;
  /** Bytes lent to the cloud's storage (0: storage lending is off). */
  readonly storageBytes: number;
  /** Credit: CPU-seconds of results the cloud's quorums accepted (three decimals). */
  readonly acceptedSeconds: number;
  /** Storage lent over time, GiB-hours (0 while the node reports none). */
  readonly storageGiBHours: number;
}

export interface StatusMessage {
  readonly source: typeof WIDGET_SOURCE;
  readonly v: typeof WIDGET_WIRE_VERSION;
  readonly type: 'status';
  readonly status: WidgetStatus;
  /** The height in CSS pixels the widget's content needs. */
  readonly height: number;
}

const hostMessageSchema = z.object({
  source: z.literal(HOST_SOURCE),
  v: z.literal(WIDGET_WIRE_VERSION),
  type: z.literal('get-status'),
});

export type HostMessage = z.infer<typeof hostMessageSchema>;

/** What an incoming message event carries that matters here. */
export interface IncomingEvent {
  readonly source: unknown;
  readonly origin: string;
  readonly data: unknown;
}

/** The host's request if `event` is acceptable, else null. */
export function acceptHostMessage(event: IncomingEvent, parent: unknown, partnerOrigin: string | null): HostMessage | null {
  if (partnerOrigin === null || event.source !== parent || event.origin !== partnerOrigin) return null;
  const parsed = hostMessageSchema.safeParse(event.data);
  return parsed.success ? parsed.data : null;
}

export interface HostLink {
  send(status: WidgetStatus, height: number): void;
  /** Messages received and dropped so far. */
  readonly ignored: number;
}

/**
 * Talks to the parent page at exactly `partnerOrigin` (postMessage's targetOrigin, so nothing leaks if the
 * parent has navigated elsewhere). With no known partner origin the widget stays silent.
 */
export function connectHost(win: Window, partnerOrigin: string | null, onRequest: () => void, onIgnored: (count: number) => void): HostLink {
  let ignored = 0;
  const parent = win.parent === win ? null : win.parent;
  win.addEventListener('message', (event: MessageEvent) => {
    if (parent && acceptHostMessage(event, parent, partnerOrigin)) return onRequest();
    ignored++;
    onIgnored(ignored);
  });
  return {
    send(status, height) {
      if (!parent || partnerOrigin === null) return;
      const message: StatusMessage = { source: WIDGET_SOURCE, v: WIDGET_WIRE_VERSION, type: 'status', status, height };
      parent.postMessage(message, partnerOrigin);
    },
    get ignored() {
      return ignored;
    },
  };
}
