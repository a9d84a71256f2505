/**
 * `npm run peer -- --url ws://127.0.0.1:8080/signal [--cloud public] [--secret s] [--identity file]`
 * Joins a cloud headless and serves as an always-on provider. Prints one JSON status line per change of
 * interest, so scripts and tests can follow it.
 */
import { parseArgs } from 'node:util';
import { loadOrCreateIdentityFile } from './identity-file.ts';
import { startNodePeer } from './node-peer.ts';
import { shutdownNodeWebRtc } from '../net/platform-node.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:8080/signal' },
    cloud: { type: 'string', default: 'public' },
    secret: { type: 'string' },
    identity: { type: 'string', default: '.nephele-peer/identity.json' },
    'max-tasks': { type: 'string', default: '2' },
  },
});

const identity = await loadOrCreateIdentityFile(values.identity!);
const peer = startNodePeer({
  identity,
  signalingUrl: values.url!,
  cloud: values.cloud!,
  secret: values.secret ?? process.env.NEPHELE_SECRET ?? null,
  maxConcurrentTasks: Number(values['max-tasks']),
});
console.log(JSON.stringify({ event: 'started', peerId: identity.peerId, cloud: values.cloud, url: values.url }));

let last = '';
peer.core.subscribe((s) => {
  const line = JSON.stringify({
    event: 'status', signaling: s.signaling, connections: s.connections.length, view: s.view.length,
    estimatedSize: s.estimatedSize, hosting: s.hosting.length,
  });
  if (line !== last) console.log(line);
  last = line;
});

const shutdown = (): void => {
  void peer.stop().then(() => {
    shutdownNodeWebRtc();
    process.exit(0);
  });
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
