/**
 * Elects, with a Web Lock, the one tab of this profile that holds the node's WebRTC connections
 * (RTCPeerConnection exists only in pages). When that tab closes, the lock passes to a waiting tab, which builds
 * a fresh edge for the same node: the identity and state stay in the worker.
 */
import * as Comlink from 'comlink';
import { NetworkEdge } from '../net/edge.ts';
import { browserPlatform } from '../net/platform-browser.ts';
import { edgeEventsToPort, portCommandsToEdge } from '../runtime/edge-port.ts';
import type { ConnectedNode } from './connect-node.ts';

export interface EdgeSettings {
  readonly signalingUrl: string;
  readonly iceServers: RTCIceServer[];
  readonly maxConnections: number;
}

export function holdEdgeWhenElected(node: ConnectedNode, settings: EdgeSettings, onElected: () => void): void {
  void navigator.locks.request(`nephele-edge:${node.cloud}`, async () => {
    const channel = new MessageChannel();
    const edge = new NetworkEdge({
      signalingUrl: settings.signalingUrl,
      iceServers: settings.iceServers,
      maxConnections: settings.maxConnections,
      platform: browserPlatform(),
      events: edgeEventsToPort(channel.port1),
      authenticator: {
        peerId: node.peerId,
        publicKey: node.publicKey,
        cloud: node.cloud,
        sign: (text) => node.session.sign(text),
        proveSecret: (text) => node.session.proveSecret(text),
        checkSecret: (text, proof) => node.session.checkSecret(text, proof),
      },
    });
    portCommandsToEdge(channel.port1, edge);
    await node.session.attachEdge(Comlink.transfer(channel.port2, [channel.port2]));
    edge.start();
    onElected();
    window.addEventListener('pagehide', () => edge.stop());
    return new Promise<never>(() => {});
  });
}
