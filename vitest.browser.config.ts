import { defineConfig } from 'vitest/config';

/** Real-browser tests: Debian's Chromium driven by playwright-core, one peer per browser context. */
export default defineConfig({
  test: {
    include: ['tests/browser/**/*.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
