/**
 * Starting a browser peer from a page, shared by the portal (src/main.ts) and the lending widget
 * (src/widget/): connect to the profile's node for a cloud, stream its snapshots, lend it a sandbox runner, and
 * hold its WebRTC edge if this page wins the election. Nothing here runs until a page calls `startPeer`.
 */
import * as Comlink from 'comlink';
import { connectNode, type ConnectedNode } from './connect-node.ts';
import { holdEdgeWhenElected } from './edge-holder.ts';
import type { SandboxRunner } from '../runtime/job-service.ts';
import type { NodeSnapshot } from '../runtime/api.ts';

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

export async function startPeer(options: StartPeerOptions): Promise<ConnectedNode> {
  const [node, config] = await Promise.all([
    connectNode(options.cloud, options.secret, { tickMs: options.tickMs }),
    loadPageConfig(),
  ]);
  options.onConnected?.(node);
  await node.session.subscribe(Comlink.proxy(options.onSnapshot));
  await node.session.registerSandbox(Comlink.proxy(options.runner));

  const wsScheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  holdEdgeWhenElected(
    node,
    {
      signalingUrl: options.signalingUrl ?? `${wsScheme}//${location.host}/signal`,
      iceServers: config.iceServers ?? [],
      maxConnections: options.maxConnections ?? config.maxConnections ?? 24,
    },
    options.onElected ?? (() => undefined),
  );
  return node;
}
