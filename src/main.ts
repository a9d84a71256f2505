/**
 * The portal page: joins this profile's node, lends it a sandbox runner (and, if elected, the WebRTC edge), and
 * renders the node's snapshots. `?cloud=<name>` picks the cloud (default "public"); `#secret=<s>` gives a
 * private cloud's secret (kept by the node, never sent anywhere in the clear). `?tick=<ms>` sets the gossip
 * period and `?maxConnections=<n>` the link cap (operators and tests).
 */
import { writable } from 'svelte/store';
import { startPeer } from './page/start-peer.ts';
import { cancelSandboxRun } from './compute/sandbox-cancel.ts';
import type { NodeSnapshot } from './runtime/api.ts';
import type { SandboxRunner } from './runtime/job-service.ts';

/**
 * WASI in a sandbox worker, x86 guests in a v86 worker: this page lends both kinds. Their code loads with the
 * first task of its kind, not with the page (most pages run none, and it is not on the join path).
 */
const lazyRunner: SandboxRunner = {
  run: async (spec, wasm, name) => (await import('./compute/browser-sandbox.ts')).runWasiTaskInBrowser(spec, wasm, name),
  runX86: async (spec, images) => (await import('./compute/browser-x86-sandbox.ts')).runX86TaskInBrowser(spec, images),
  kinds: () => ['wasi', 'x86'],
  cancel: cancelSandboxRun,
};

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

/**
 * The portal's UI (Svelte and every panel, most of the page's code) loads beside the join instead of before
 * it: the node starts as soon as this small entry has run.
 */
const portal = import('./ui/mount.ts');

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const cloud = params.get('cloud') ?? 'public';
  const secret = new URLSearchParams(location.hash.slice(1)).get('secret');
  if (secret) history.replaceState(null, '', location.pathname + location.search);

  const snapshot = writable<NodeSnapshot | null>(null);
  const target = document.getElementById('app');
  if (!target) throw new Error('E_NO_APP_ELEMENT: index.html lacks #app');

  const milestones = joinMilestones();
  const maxConnections = params.get('maxConnections');
  const node = await startPeer({
    cloud,
    secret,
    tickMs: Number(params.get('tick') ?? 1000),
    runner: lazyRunner,
    onConnected: (connected) => void portal.then(({ mountPortal }) => mountPortal(target, {
      snapshot,
      submitJob: (request) => connected.session.submitJob(request),
      command: (service, command, args) => connected.session.command(service, command, args),
    }), showFatal),
    onSnapshot: (s: NodeSnapshot) => {
      snapshot.set(s);
      milestones(s);
    },
    signalingUrl: params.get('signal'),
    maxConnections: maxConnections === null ? null : Number(maxConnections),
    onElected: () => document.documentElement.dataset.edgeHolder = 'true',
  });
  // Test hook, off by default (tests/browser/compute.test.ts): `?lie=1` makes this node's compute service corrupt
  // the output of tasks it runs, as a cheating host would.
  if (params.get('lie') === '1') await node.session.command('compute', 'testHooks', { lie: true });
  // `?site=<label>` names this peer's site (UCComp site clustering; the head is the site's longest-up peer).
  const site = params.get('site');
  if (site) await node.session.command('cloud', 'setSite', { site });
  document.documentElement.dataset.peerId = node.peerId;
}

main().catch(showFatal);

function showFatal(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  document.body.innerHTML = '';
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.dataset.testid = 'fatal-error';
  p.textContent = `Nephele could not start: ${message}`;
  document.body.append(p);
}
