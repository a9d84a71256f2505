/**
 * The chunk store contract in a real browser: every case of the conformance suite (tests/conformance/
 * chunk-store-suite.ts) runs against IdbChunkStore on real IndexedDB in Chromium, in a page and in a dedicated
 * worker, and must pass; the memory store passes the same suite in Node (tests/unit/chunk-store-memory.test.ts,
 * repeated here so both stores are held to one list of cases). The fixture page is tests/fixtures/store-page,
 * built into dist-fixtures/store-page (`npx vite build --config tests/fixtures/store-page/vite.config.ts`).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startSignalingServer } from '../../signaling/server.ts';
import { chunkStoreConformance } from '../conformance/chunk-store-suite.ts';
import { MemoryChunkStore } from '../../src/store/memory-chunk-store.ts';
import { launchChromium, newPeerContext } from './harness.ts';

const FIXTURE_DIR = 'dist-fixtures/store-page';

interface CaseOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly error: string | null;
}

const expectedNames = chunkStoreConformance('idb', () => new MemoryChunkStore({ quotaBytes: 0 })).map((c) => c.name);

let server: Awaited<ReturnType<typeof startSignalingServer>>;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(`${FIXTURE_DIR}/index.html`)) {
    throw new Error(`missing ${FIXTURE_DIR}: run npx vite build --config tests/fixtures/store-page/vite.config.ts`);
  }
  server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: FIXTURE_DIR });
  browser = await launchChromium();
  page = await (await newPeerContext(browser)).newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => 'storeConformance' in window, undefined, { timeout: 20_000 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

function run(where: 'inPage' | 'inWorker'): Promise<CaseOutcome[]> {
  return page.evaluate(
    (w) => (window as unknown as { storeConformance: Record<string, () => Promise<CaseOutcome[]>> }).storeConformance[w]!(),
    where,
  );
}

function failures(outcomes: readonly CaseOutcome[]): string[] {
  return outcomes.filter((o) => !o.ok).map((o) => `${o.name}: ${o.error}`);
}

describe('IdbChunkStore conformance in Chromium', () => {
  it('passes every conformance case on real IndexedDB in a page', async () => {
    const outcomes = await run('inPage');
    expect(outcomes.map((o) => o.name)).toEqual(expectedNames);
    expect(failures(outcomes)).toEqual([]);
  });

  it('passes every conformance case on real IndexedDB in a dedicated worker', async () => {
    const outcomes = await run('inWorker');
    expect(outcomes.map((o) => o.name)).toEqual(expectedNames);
    expect(failures(outcomes)).toEqual([]);
  });
});

describe('MemoryChunkStore conformance in Node (the same cases)', () => {
  for (const c of chunkStoreConformance('memory', (options) => new MemoryChunkStore(options))) it(c.name, c.run);
});
