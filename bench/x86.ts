/**
 * x86 benchmark: how fast a v86 guest gives its first output, cold boot against booted-snapshot restore, for the
 * freestanding multiboot guest and the Debian Linux guest (docs V86.md), in a Node worker thread and in a
 * Chromium module worker. The goal (issue #5) is a result within 2 s of asking for a snapshot guest in the
 * browser. Linux rows need `npm run build:guests` (public/guests/linux); without it they are left out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'vite';
import { launchChromium } from '../tests/browser/harness.ts';
import { runX86TaskInNode } from '../src/compute/node-x86-sandbox.ts';
import { guestDomain, guestFileHash, x86GuestIndexSchema, type X86GuestIndex } from '../src/compute/x86-guest-index.ts';
import type { X86TaskResult, X86TaskSpec } from '../src/compute/x86-task.ts';
import { row, type BenchRow, type BenchSuite } from './table.ts';

const V86_SRC = 'V86.md, measured on this kind of machine (v86 0.5.462, 2 loaded cores)';
const GOAL_SRC = 'issue #5 goal: result within 2 s of asking for a snapshot guest';

interface GuestSet { readonly dir: string; readonly index: X86GuestIndex; readonly images: Map<string, Uint8Array> }

function loadSet(name: string): GuestSet | null {
  const dir = join('public/guests', name);
  if (!existsSync(join(dir, 'index.json'))) return null;
  const index = x86GuestIndexSchema.parse(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')));
  const images = new Map(index.files.map((f) => [f.sha256, new Uint8Array(readFileSync(join(dir, f.sha256)))]));
  return { dir, index, images };
}

function taskFor(set: GuestSet, snapshot: boolean): X86TaskSpec {
  const domain = guestDomain(set.index, snapshot);
  return domain.boot === 'multiboot'
    ? { domain, args: ['hello'], stdin: '', timeLimitMs: 60_000 }
    : { domain, program: guestFileHash(set.index, 'hello.i386'), args: ['bench'], stdin: '', timeLimitMs: 180_000 };
}

function okTimings(result: X86TaskResult): { firstOutputMs: number; readyMs: number } {
  if (!result.ok) throw new Error(`E_BENCH_X86: ${result.code} ${result.message}`);
  return { firstOutputMs: result.timings.firstOutputMs ?? result.timings.exitMs, readyMs: result.timings.readyMs };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

async function nodeRows(set: GuestSet, snapshot: boolean, n: number, reference: number, referenceSource: string): Promise<BenchRow> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(okTimings(await runX86TaskInNode(taskFor(set, snapshot), set.images)).firstOutputMs);
  const boot = set.index.domain.boot;
  return row({
    figure: `${boot} ${snapshot ? 'snapshot restore' : 'cold boot'} to first output, Node worker thread`,
    value: median(samples), unit: 'ms', reference, referenceSource, n,
    conditions: `median; from the worker's start of the task (image hashing, v86 load, ${snapshot ? 'restore' : 'boot to READY'}, job hand-over) to the program's first serial byte; thread start-up not counted; ${boot} guest, ${set.index.domain.memoryMB} MiB`,
    better: 'lower',
  });
}

/** Runs snapshot tasks in a Chromium page (Vite dev server over the sources) and times them from the page. */
async function browserRows(sets: readonly GuestSet[], n: number): Promise<BenchRow[]> {
  const server = await createServer({
    configFile: false, root: process.cwd(), logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, hmr: false }, worker: { format: 'es' },
    optimizeDeps: { include: ['v86', 'zod'], noDiscovery: true },
  });
  await server.listen();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.resolvedUrls?.local[0] ?? ''}guests/multiboot/index.json`);
    const rows: BenchRow[] = [];
    for (const set of sets) {
      const task = taskFor(set, true);
      const name = set.dir.split('/').pop() ?? '';
      const walls: number[] = [];
      for (let i = 0; i < n; i++) {
        const result = await page.evaluate(`(async () => {
          const images = new Map();
          for (const f of ${JSON.stringify(set.index.files)}) {
            images.set(f.sha256, new Uint8Array(await (await fetch('/guests/${name}/' + f.sha256)).arrayBuffer()));
          }
          const { runX86TaskInBrowser } = await import('/src/compute/browser-x86-sandbox.ts');
          const started = performance.now();
          const result = await runX86TaskInBrowser(${JSON.stringify(task)}, images);
          return { ...result, wallMs: Math.round(performance.now() - started) };
        })()`) as X86TaskResult & { wallMs: number };
        okTimings(result);
        walls.push(result.wallMs);
      }
      rows.push(row({
        figure: `${set.index.domain.boot} snapshot restore to result, Chromium worker`,
        value: median(walls), unit: 'ms', reference: 2000, referenceSource: GOAL_SRC, n,
        conditions: 'median; from runX86TaskInBrowser in the page (worker start, image copy and hashing, restore, job, exit) to its result; images already in page memory; headless Chromium',
        better: 'lower',
      }));
    }
    return rows;
  } finally {
    await browser.close();
    await server.close();
  }
}

export const x86Suite: BenchSuite = {
  name: 'x86',
  async run(quick) {
    const multiboot = loadSet('multiboot');
    if (!multiboot) throw new Error('E_BENCH_X86: public/guests/multiboot is missing');
    const linux = loadSet('linux');
    const n = quick ? 3 : 7;
    const rows = [
      await nodeRows(multiboot, false, n, 100, `${V86_SRC}: first serial output 75–100 ms after new V86`),
      await nodeRows(multiboot, true, n, 200, `${V86_SRC}: restore to result 0.15–0.2 s`),
    ];
    if (linux) {
      // A cold Linux boot takes tens of seconds under v86; one sample, and none in quick mode.
      if (!quick) rows.push(await nodeRows(linux, false, 1, 14_000, `${V86_SRC}: cold boot to /init 6.5–14 s with the tuned command line`));
      rows.push(await nodeRows(linux, true, quick ? 2 : 5, 2000, GOAL_SRC));
    } else {
      console.log('x86: public/guests/linux not built (npm run build:guests); Linux rows left out');
    }
    rows.push(...await browserRows(linux ? [multiboot, linux] : [multiboot], quick ? 3 : 5));
    return rows;
  },
};
