/**
 * x86 guests in a real browser: Chromium runs runX86TaskInBrowser in a page, which starts workers/v86.worker.ts
 * (one v86 emulator per module worker) with images fetched from public/guests/. The page is served by Vite's dev
 * server straight from the sources (the app does not expose x86 tasks yet). The multiboot guest is committed; the
 * Linux case runs when `npm run build:guests` has built public/guests/linux.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type ViteDevServer } from 'vite';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './harness.ts';
import type { X86TaskResult } from '../../src/compute/x86-task.ts';

let server: ViteDevServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await createServer({
    configFile: false,
    root: process.cwd(),
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, hmr: false },
    worker: { format: 'es' },
    optimizeDeps: { include: ['v86', 'zod'], noDiscovery: true },
  });
  await server.listen();
  const base = server.resolvedUrls?.local[0];
  if (!base) throw new Error('vite dev server has no local URL');
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(`${base}guests/multiboot/index.json`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Runs one task in the page: loads the guest set's index and images, then the sandbox module. The script is a
 * string so the test runner cannot rewrite its dynamic import.
 */
async function runInPage(set: string, task: Record<string, unknown>, useSnapshot: boolean): Promise<X86TaskResult & { wallMs: number }> {
  return page.evaluate(`(async () => {
    const set = ${JSON.stringify(set)};
    const index = await (await fetch('/guests/' + set + '/index.json')).json();
    const images = new Map();
    for (const f of index.files) images.set(f.sha256, new Uint8Array(await (await fetch('/guests/' + set + '/' + f.sha256)).arrayBuffer()));
    const domain = { ...index.domain };
    if (!${useSnapshot}) delete domain.snapshot;
    const task = ${JSON.stringify(task)};
    if (task.programName) task.program = index.files.find((f) => f.name === task.programName).sha256;
    delete task.programName;
    const { runX86TaskInBrowser } = await import('/src/compute/browser-x86-sandbox.ts');
    const started = performance.now();
    const result = await runX86TaskInBrowser({ ...task, domain }, images);
    return { ...result, wallMs: Math.round(performance.now() - started) };
  })()`);
}

describe('x86 guests in a Chromium worker', () => {
  it('restores the multiboot snapshot and returns the command output', async () => {
    const result = await runInPage('multiboot', { args: ['primes', '100000'], stdin: '', timeLimitMs: 20_000 }, true);
    if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
    expect(result.serial).toBe('primes up to 100000: 9592\n');
    expect(result.restoredFromSnapshot).toBe(true);
    console.log(`multiboot snapshot in Chromium: first output ${result.timings.firstOutputMs} ms in the worker, ${result.wallMs} ms from the page`);
    expect(result.wallMs).toBeLessThan(2_000);
  });

  it('kills an endless guest with E_X86_TIME_LIMIT', async () => {
    const result = await runInPage('multiboot', { args: ['loop'], stdin: '', timeLimitMs: 1_000 }, true);
    expect(result.ok ? 'ok' : result.code).toBe('E_X86_TIME_LIMIT');
  });

  it.skipIf(!existsSync('public/guests/linux/index.json'))('restores the Linux snapshot and runs a static i386 program', async () => {
    const result = await runInPage('linux', {
      programName: 'hello.i386', args: ['from the browser'], stdin: 'a\n', timeLimitMs: 30_000,
    }, true);
    if (!result.ok) throw new Error(`${result.code}: ${result.message}\n${result.serial}`);
    expect(result.serial).toBe('hello from i386 linux, argc=2\narg[1]=from the browser\nstdin: 1 lines, 2 bytes\n');
    expect(result.exitStatus).toBe(0);
    console.log(`linux snapshot in Chromium: first output ${result.timings.firstOutputMs} ms in the worker, ${result.wallMs} ms from the page`);
  });
});
