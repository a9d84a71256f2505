/**
 * A cloud of real NodeCores running the cloud and compute services over the in-memory network, for tests of jobs
 * on allocated slices. Peer i has cpuScore 100 + i, so a "top by cpuScore" slice takes the last peers.
 */
import type { NodeCore } from '../../../src/runtime/node-core.ts';
import { runWasiTaskInNode } from '../../../src/compute/node-sandbox.ts';
import { cloudService } from '../../../src/runtime/services/cloud-service.ts';
import { computeService } from '../../../src/runtime/services/compute-service.ts';
import type { CloudSliceInfo, CloudSnapshot } from '../../../src/runtime/services/cloud-types.ts';
import type { ComputeSnapshot } from '../../../src/runtime/services/compute-types.ts';
import { meshCloud, waitFor, type CoreSetup } from './core-network.ts';

export function sliceComputeCloud(size: number): Promise<NodeCore[]> {
  const setups: CoreSetup[] = Array.from({ length: size }, (_, i) => ({
    tickMs: 50,
    runner: () => ({ run: runWasiTaskInNode }),
    services: [
      cloudService({ attributes: { cores: 2, memoryMB: 2048, cpuScore: 100 + i, storageMB: 500, site: 'lab' } }),
      computeService({ limits: { maxConcurrentTasks: 2, cpuCapPercent: 100, paused: false } }),
    ],
  }));
  return meshCloud(setups);
}

export const compute = (core: NodeCore): ComputeSnapshot => core.snapshot().services.compute as ComputeSnapshot;
export const cloudOf = (core: NodeCore): CloudSnapshot => core.snapshot().services.cloud as CloudSnapshot;

/** Once cores[0] knows every other peer, allocates the slice `name` of the `n` peers with the best cpuScore there. */
export async function allocateFastest(cores: readonly NodeCore[], name: string, n: number): Promise<CloudSliceInfo> {
  const owner = cores[0]!;
  await waitFor(() => cloudOf(owner).knownPeers === cores.length - 1, 15_000, 'directory filled');
  return (await owner.command('cloud', 'runInstances', {
    slice: name, query: { kind: 'top-count', n, attribute: 'cpuScore' },
  })) as CloudSliceInfo;
}
