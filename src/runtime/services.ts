/**
 * The services every node runs, in order (see node-service.ts). Add a capability by adding its factory here.
 */
import type { ServiceFactory } from './node-service.ts';
import { computeService } from './services/compute-service.ts';
import { cloudService } from './services/cloud-service.ts';
import { storageService } from './services/storage-service.ts';
import { defaultChunkStore } from './services/storage-store.ts';

export const NODE_SERVICES: readonly ServiceFactory[] = [
  storageService({ openStore: defaultChunkStore }),
  computeService(),
  cloudService(),
];
