/**
 * Connects this tab to its node: the profile's SharedWorker for this cloud (a dedicated Worker where
 * SharedWorker is missing), wrapped with comlink. The tab holds a Web Lock for its whole life so the node can
 * tell when it has gone.
 */
import * as Comlink from 'comlink';
import type { NodeSettings, TabSession } from '../runtime/worker-node.ts';
import { tabLockName } from '../runtime/api.ts';

export interface ConnectedNode {
  readonly session: Comlink.Remote<TabSession>;
  readonly tabId: string;
  readonly peerId: string;
  readonly publicKey: Uint8Array;
  readonly cloud: string;
  readonly shared: boolean;
}

export async function connectNode(cloud: string, secret: string | null, settings: NodeSettings): Promise<ConnectedNode> {
  const name = `nephele:${cloud}`;
  const shared = typeof SharedWorker !== 'undefined';
  const endpoint: Comlink.Endpoint = shared
    ? new SharedWorker(new URL('../../workers/node.sharedworker.ts', import.meta.url), { type: 'module', name }).port
    : new Worker(new URL('../../workers/node.sharedworker.ts', import.meta.url), { type: 'module', name });
  const session = Comlink.wrap<TabSession>(endpoint);
  const tabId = crypto.randomUUID();
  await new Promise<void>((held) => {
    void navigator.locks.request(tabLockName(cloud, tabId), () => {
      held();
      return new Promise<never>(() => {});
    });
  });
  const info = await session.init(tabId, secret, settings);
  return { session, tabId, ...info, shared };
}
