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
import type { SocketFactory } from '../net/platform.ts';
import { markJoin } from '../net/join-marks.ts';

export interface EdgeSettings {
  readonly signalingUrl: string;
  readonly iceServers: RTCIceServer[];
  readonly maxConnections: number;
  /** The signaling socket to use (e.g. one opened early, net/early-socket.ts); default: the page's WebSocket. */
  readonly socketFactory?: SocketFactory;
  /** Called when the edge's first link is up (once). */
  readonly onFirstLink?: () => void;
}

export function holdEdgeWhenElected(node: ConnectedNode, settings: EdgeSettings, onElected: () => void): void {
  void navigator.locks.request(`nephele-edge:${node.cloud}`, async () => {
    const channel = new MessageChannel();
    const events = edgeEventsToPort(channel.port1);
    let linked = false;
    const edge = new NetworkEdge({
      signalingUrl: settings.signalingUrl,
      iceServers: settings.iceServers,
      maxConnections: settings.maxConnections,
      platform: settings.socketFactory ? { ...browserPlatform(), WebSocket: settings.socketFactory } : browserPlatform(),
      events: {
        ...events,
        onPeerUp: (peer) => {
          events.onPeerUp(peer);
          if (!linked) settings.onFirstLink?.();
          linked = true;
        },
      },
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
    // The edge starts at once: what it reports before the worker has taken the port waits in the port's queue
    // and travels with it.
    const attached = node.session.attachEdge(Comlink.transfer(channel.port2, [channel.port2]));
    markJoin('edge-start');
    edge.start();
    window.addEventListener('pagehide', () => edge.stop());
    await attached;
    onElected();
    return new Promise<never>(() => {});
  });
}
