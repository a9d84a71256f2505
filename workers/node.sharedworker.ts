/// <reference lib="webworker" />
/**
 * The node's home: a SharedWorker (one per browser profile and cloud) or, where SharedWorker is missing, a
 * dedicated Worker started by the tab itself. The worker's name is `nephele:<cloud>`.
 */
import { WorkerNode, exposeSession } from '../src/runtime/worker-node.ts';
import { markJoin } from '../src/net/join-marks.ts';

markJoin('worker-start');

const scope = self as unknown as SharedWorkerGlobalScope & DedicatedWorkerGlobalScope;
const cloud = scope.name.startsWith('nephele:') ? scope.name.slice('nephele:'.length) : 'public';
const node = new WorkerNode(cloud);

if ('onconnect' in scope) {
  scope.onconnect = (event: MessageEvent) => {
    const port = event.ports[0];
    if (port) exposeSession(node, port);
  };
} else {
  exposeSession(node, scope);
}
