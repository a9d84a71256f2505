import { describe, it } from 'vitest';
import { chunkStoreConformance } from '../conformance/chunk-store-suite.ts';
import { MemoryChunkStore } from '../../src/store/memory-chunk-store.ts';

describe('MemoryChunkStore conformance', () => {
  for (const c of chunkStoreConformance('memory', (options) => new MemoryChunkStore(options))) it(c.name, c.run);
});
