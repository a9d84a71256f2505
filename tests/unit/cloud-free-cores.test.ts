/**
 * "Total free CPU": a node's free cores, as it contributes them to cloud-wide averaging, leave out the compute
 * tasks running on it (one core each), and are 0 while the node is held by a slice.
 */
import { describe, expect, it } from 'vitest';
import { CloudService } from '../../src/runtime/services/cloud-service.ts';
import type { ServiceDeps } from '../../src/runtime/node-service.ts';
import { createRng } from '../../src/core/rng.ts';
import { viewOf } from '../../src/protocols/peer-sampling/view.ts';

function service(runningTasks: () => number): CloudService {
  const deps: ServiceDeps = {
    self: 'a'.repeat(40), rng: createRng(1), now: () => 0, view: viewOf(() => []), viewEntries: () => [],
    linkedPeers: () => [], estimatedSize: () => null, averages: () => null, run: () => {}, sendFrame: () => false,
    connect: () => {}, runner: () => null, log: () => {}, changed: () => {}, runningTasks,
    command: () => Promise.reject(new Error('no other services here')),
  };
  return new CloudService(deps, { attributes: { cores: 4, memoryMB: 2048, storageMB: 100, cpuScore: 1 } });
}

describe('free cores contributed to the cloud totals', () => {
  it('are the offered cores minus the compute tasks running here, never below 0', () => {
    let running = 0;
    const cloud = service(() => running);
    expect(cloud.localValues()['cloud.free-cores']).toBe(4);
    running = 3;
    expect(cloud.localValues()['cloud.free-cores']).toBe(1);
    running = 9;
    expect(cloud.localValues()['cloud.free-cores']).toBe(0);
    expect(cloud.localValues()['cloud.free-memory']).toBe(2048);
  });
});
