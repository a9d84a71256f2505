/**
 * The services every node runs, in order (see node-service.ts). Add a capability by adding its factory here.
 */
import type { ServiceFactory } from './node-service.ts';

export const NODE_SERVICES: readonly ServiceFactory[] = [];
