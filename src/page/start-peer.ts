/**
 * Starting a browser peer from a page, shared by the portal (src/main.ts) and the lending widget
 * (src/widget/): connect to the profile's node for a cloud, stream its snapshots, lend it a sandbox runner, and
 * hold its WebRTC edge if this page wins the election. Nothing here runs until a page calls `startPeer`.
 */
import * as Comlink from 'comlink';
import { connectNode, type ConnectedNode } from './connect-node.ts';
import { holdEdgeWhenElected } from './edge-holder.ts';
import type { SandboxRunner } from '../runtime/job-service.ts';
import { applySnapshotPatch, type NodeSnapshot, type SnapshotPatch } from '../runtime/api.ts';
import { markJoin } from '../net/join-marks.ts';
import { openEarlySocket } from '../net/early-socket.ts';
import { browserPlatform } from '../net/platform-browser.ts';

/** How long an early signaling socket waits for this tab to be elected edge holder before it is closed. */
const EARLY_SOCKET_KEEP_MS = 10_000;
/** The longest the snapshot stream waits for the first link. */
const FIRST_SNAPSHOT_WAIT_MS = 1_000;

/** What the server hands pages at /config.json. */
export interface PageConfig {
  readonly iceServers?: RTCIceServer[];
  readonly maxConnections?: number;
}

export async function loadPageConfig(): Promise<PageConfig> {
  try {
    const response = await fetch('/config.json');
    return response.ok ? ((await response.json()) as PageConfig) : {};
  } catch {
    return {};
  }
}

export interface StartPeerOptions {
  readonly cloud: string;
  readonly secret: string | null;
  readonly tickMs: number;
  /** The sandbox this page lends its node (every page lends one). */
  readonly runner: SandboxRunner;
  readonly onSnapshot: (snapshot: NodeSnapshot) => void;
  /** Called once the node is reachable, before the first snapshot (the portal mounts its UI here). */
  readonly onConnected?: (node: ConnectedNode) => void;
  /** ws(s)://host/signal; default: this page's origin. */
  readonly signalingUrl?: string | null;
  /** Link cap; default: the server's config, else 24. */
  readonly maxConnections?: number | null;
  /** Called if this page is elected to hold the node's WebRTC connections. */
  readonly onElected?: () => void;
}

/**
 * Joining is on the critical path here (issue #2): the signaling socket opens while the worker loads the
 * identity, and the edge starts as soon as the node is reachable, in parallel with the sandbox (comlink keeps
 * their order on the worker's side, so the sandbox is registered before the edge attaches). The snapshot stream
 * starts once the first link is up (at most FIRST_SNAPSHOT_WAIT_MS later): rendering the first snapshot takes
 * the page's main thread for 100–200 ms on a loaded machine, which would otherwise sit between the edge's
 * signaling steps.
 */
export async function startPeer(options: StartPeerOptions): Promise<ConnectedNode> {
  markJoin('page-start');
  const wsScheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const signalingUrl = options.signalingUrl ?? `${wsScheme}//${location.host}/signal`;
  const early = openEarlySocket(signalingUrl, browserPlatform().WebSocket);
  const [node, config] = await Promise.all([
    connectNode(options.cloud, options.secret, { tickMs: options.tickMs }),
    loadPageConfig(),
  ]);
  markJoin('node-connected');
  const registered = node.session.registerSandbox(Comlink.proxy(options.runner));
  const linkedOrLate = new Promise<void>((resolve) => {
    setTimeout(resolve, FIRST_SNAPSHOT_WAIT_MS);
    holdEdgeWhenElected(
      node,
      {
        signalingUrl,
        iceServers: config.iceServers ?? [],
        maxConnections: options.maxConnections ?? config.maxConnections ?? 24,
        socketFactory: early.factory,
        onFirstLink: resolve,
      },
      options.onElected ?? (() => undefined),
    );
  });
  // A tab that is not elected (another tab of the profile holds the edge) does not keep the socket open.
  setTimeout(early.discard, EARLY_SOCKET_KEEP_MS);
  options.onConnected?.(node);
  await Promise.all([registered, linkedOrLate]);
  await streamSnapshots(node, options.onSnapshot);
  return node;
}

/**
 * The node sends patches (only the parts that changed, runtime/api.ts); this page merges them, so unchanged
 * parts keep their identity. While the page is hidden the node sends it nothing (an idle background tab then
 * costs no rendering); shown again, it gets the latest at once.
 */
async function streamSnapshots(node: ConnectedNode, onSnapshot: (snapshot: NodeSnapshot) => void): Promise<void> {
  let current: NodeSnapshot | null = null;
  const visible = (): Promise<void> => node.session.setVisible(document.visibilityState !== 'hidden');
  document.addEventListener('visibilitychange', () => void visible().catch(() => undefined));
  await visible();
  await node.session.subscribe(Comlink.proxy((patch: SnapshotPatch) => {
    current = applySnapshotPatch(current, patch);
    if (current) onSnapshot(current);
  }));
}
