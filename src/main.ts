/**
 * The portal page: joins this profile's node, lends it a sandbox runner (and, if elected, the WebRTC edge), and
 * renders the node's snapshots. `?cloud=<name>` picks the cloud (default "public"); `#secret=<s>` gives a
 * private cloud's secret (kept by the node, never sent anywhere in the clear). `?tick=<ms>` sets the gossip
 * period and `?maxConnections=<n>` the link cap (operators and tests).
 */
import * as Comlink from 'comlink';
import { writable } from 'svelte/store';
import { connectNode } from './page/connect-node.ts';
import { holdEdgeWhenElected } from './page/edge-holder.ts';
import { runWasiTaskInBrowser } from './compute/browser-sandbox.ts';
import { mountPortal } from './ui/mount.ts';
import type { NodeSnapshot } from './runtime/api.ts';

interface PageConfig {
  readonly iceServers?: RTCIceServer[];
  readonly maxConnections?: number;
}

async function loadConfig(): Promise<PageConfig> {
  try {
    const response = await fetch('/config.json');
    return response.ok ? ((await response.json()) as PageConfig) : {};
  } catch {
    return {};
  }
}

/**
 * Marks on the page's performance timeline (ms since navigation): `nephele:joined`, `nephele:first-link` and
 * `nephele:view:<n>` the first time the gossip view holds n peers. The join-time benchmark reads them.
 */
function joinMilestones(): (s: NodeSnapshot) => void {
  const seen = new Set<string>();
  const mark = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    performance.mark(name);
  };
  return (s) => {
    if (s.signaling === 'joined') mark('nephele:joined');
    if (s.connections.length > 0) mark('nephele:first-link');
    for (let n = 1; n <= s.view.length; n++) mark(`nephele:view:${n}`);
  };
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const cloud = params.get('cloud') ?? 'public';
  const secret = new URLSearchParams(location.hash.slice(1)).get('secret');
  if (secret) history.replaceState(null, '', location.pathname + location.search);

  const snapshot = writable<NodeSnapshot | null>(null);
  const target = document.getElementById('app');
  if (!target) throw new Error('E_NO_APP_ELEMENT: index.html lacks #app');

  const tickMs = Number(params.get('tick') ?? 1000);
  const [node, config] = await Promise.all([connectNode(cloud, secret, { tickMs }), loadConfig()]);
  mountPortal(target, {
    snapshot,
    submitJob: (request) => node.session.submitJob(request),
    command: (service, command, args) => node.session.command(service, command, args),
  });
  const milestones = joinMilestones();
  await node.session.subscribe(Comlink.proxy((s: NodeSnapshot) => {
    snapshot.set(s);
    milestones(s);
  }));
  await node.session.registerSandbox(Comlink.proxy({ run: runWasiTaskInBrowser }));

  const wsScheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  holdEdgeWhenElected(
    node,
    {
      signalingUrl: params.get('signal') ?? `${wsScheme}//${location.host}/signal`,
      iceServers: config.iceServers ?? [],
      maxConnections: Number(params.get('maxConnections') ?? config.maxConnections ?? 24),
    },
    () => document.documentElement.dataset.edgeHolder = 'true',
  );
  document.documentElement.dataset.peerId = node.peerId;
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  document.body.innerHTML = '';
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.dataset.testid = 'fatal-error';
  p.textContent = `Nephele could not start: ${message}`;
  document.body.append(p);
});
