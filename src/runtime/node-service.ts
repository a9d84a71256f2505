/**
 * The extension point of a node: each capability beyond the spine (slices, storage, scheduling, credit…) is a
 * NodeService. It hosts its pure protocols through ProtocolHost slots, may keep runtime state, contributes one
 * JSON-serialisable part to the node snapshot (`snapshot.services[name]`), and answers named commands from tabs
 * (the portal, the SDK). NodeCore composes the services listed in services.ts; nothing else changes per service.
 */
import type { PeerId } from '../core/ids.ts';
import type { Effect, ProtocolContext } from '../core/protocol.ts';
import type { Rng } from '../core/rng.ts';
import type { View } from '../protocols/peer-sampling/view.ts';
import type { SandboxRunner } from './job-service.ts';
import type { ProtocolSlot } from './protocol-host.ts';

/** What a service may use of its node. */
export interface ServiceDeps {
  readonly self: PeerId;
  readonly rng: Rng;
  readonly now: () => number;
  /** The peer-sampling view (Cyclon): the only way services learn about peers (STYLE.md: View.sample). */
  readonly view: View;
  /** The current peer-sampling view with ages (for pictures and diagnostics; protocols use `view`). */
  readonly viewEntries: () => readonly { readonly peer: PeerId; readonly age: number }[];
  /** Peers with an authenticated link right now. */
  readonly linkedPeers: () => readonly PeerId[];
  /** Estimated cloud size from aggregation; null before the first epoch ends. */
  readonly estimatedSize: () => number | null;
  /** Cloud-wide means of the values services contribute through `localValues` (last epoch); null before. */
  readonly averages: () => ReadonlyMap<string, number> | null;
  /** Runs `fn` as protocol `name` outside a tick (an API call) and carries out the effects it returns. */
  readonly run: <M>(protocol: string, fn: (ctx: ProtocolContext) => Effect<M>[]) => void;
  /**
   * Sends a raw frame (wire/frame.ts: envelope header + binary body) for bulk bytes that a protocol slot's JSON
   * message cannot carry. Returns false when there is no link to `to` (ask for one with `connect`).
   */
  readonly sendFrame: (to: PeerId, frame: Uint8Array) => boolean;
  /** Asks the edge for a link to `to` (frames to it can be sent once `peerUp(to)` fires). */
  readonly connect: (to: PeerId) => void;
  /** A sandbox able to run a WASI task here, or null. */
  readonly runner: () => SandboxRunner | null;
  readonly log: (level: 'info' | 'warn', text: string) => void;
  /** Tells the node the service's snapshot changed (snapshots are coalesced). */
  readonly changed: () => void;
  /**
   * A command to another service of this node (as a tab would send it), for capabilities that build on each
   * other: compute storing images in the DHT, or asking the cloud service for this node's slice.
   */
  readonly command: (service: string, command: string, args: unknown) => Promise<unknown>;
  /** Tasks this node runs for others right now, over every service (free cores = cores − this). */
  readonly runningTasks: () => number;
}

export interface NodeService {
  /** Key of the service's part in the snapshot and target of commands. */
  readonly name: string;
  /** Pure protocols this service hosts (ticked and fed messages by the node's ProtocolHost). */
  readonly slots?: readonly ProtocolSlot<any>[];
  /**
   * Envelope protocol names (`p`) whose frames this service receives whole through `onFrame` (header and body),
   * instead of through a protocol slot. The service validates `m` itself.
   */
  readonly frameProtocols?: readonly string[];
  onFrame?(from: PeerId, envelope: { readonly p: string; readonly v: number; readonly m: unknown }, body: Uint8Array): void;
  /** Once per node tick, after the protocols ticked. */
  tick?(): void;
  peerUp?(peer: PeerId): void;
  peerDown?(peer: PeerId): void;
  /** Tasks (sandboxes) this service is running on this node right now. */
  runningTasks?(): number;
  /** Named numbers this node contributes to cloud-wide averaging (e.g. load), read at each epoch start. */
  localValues?(): Readonly<Record<string, number>>;
  /** JSON-serialisable state for the UI. */
  snapshot(): unknown;
  /**
   * A command from a tab. `args` is untrusted: validate it. Reject with NepheleError (a named code) on bad input.
   */
  command?(command: string, args: unknown): Promise<unknown>;
  stop?(): void;
}

export type ServiceFactory = (deps: ServiceDeps) => NodeService;
