/**
 * The Node peer (the P2PCS "servent"): the same NodeCore as a browser tab's SharedWorker, with its own WebRTC
 * edge (node-datachannel) and WASI and x86 (v86) sandboxes in worker threads. Always-on provider and CLI host.
 */
import type { Identity } from '../identity/identity.ts';
import { NetworkEdge } from '../net/edge.ts';
import { nodePlatform } from '../net/platform-node.ts';
import { runWasiBatchInNode } from '../compute/node-sandbox.ts';
import { cancelSandboxRun } from '../compute/sandbox-cancel.ts';
import { runX86TaskInNode } from '../compute/node-x86-sandbox.ts';
import type { SandboxRunner } from '../runtime/job-service.ts';
import { NodeCore } from '../runtime/node-core.ts';
import { identityAuthority } from '../runtime/authenticator.ts';

export interface NodePeerOptions {
  readonly identity: Identity;
  readonly signalingUrl: string;
  readonly cloud: string;
  readonly secret: string | null;
  readonly iceServers?: RTCIceServer[];
  readonly maxConnections?: number;
  readonly maxConcurrentTasks?: number;
}

export interface NodePeer {
  readonly core: NodeCore;
  readonly edge: NetworkEdge;
  stop(): Promise<void>;
}

export function startNodePeer(options: NodePeerOptions): NodePeer {
  const { identity } = options;
  const runner: SandboxRunner = { run: runWasiBatchInNode, runX86: runX86TaskInNode, kinds: () => ['wasi', 'x86'], cancel: cancelSandboxRun };
  const core = new NodeCore({
    identity,
    cloud: options.cloud,
    runner: () => runner,
    maxConcurrentTasks: options.maxConcurrentTasks ?? 2,
  });
  const authority = identityAuthority(identity, () => options.secret);
  const edge = new NetworkEdge({
    signalingUrl: options.signalingUrl,
    iceServers: options.iceServers ?? [],
    maxConnections: options.maxConnections ?? 64,
    platform: nodePlatform(),
    events: core,
    authenticator: { peerId: identity.peerId, publicKey: identity.publicKey, cloud: options.cloud, ...authority },
  });
  core.attachEdge(edge);
  core.start();
  edge.start();
  return {
    core,
    edge,
    stop: async () => {
      core.stop();
      edge.stop();
    },
  };
}
