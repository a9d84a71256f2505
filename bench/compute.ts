/**
 * Compute benchmark (issue #5): task dispatch throughput for tiny WASI tasks across browser peers; a
 * compute-bound C program (guests/wasi/primes.c) built to WASI and run in the Node sandbox (a worker thread,
 * the same one a Node peer lends) against the same source built natively with gcc, same run; v86 cold boot
 * against snapshot restore (the x86 suite's rows, run again here, not re-implemented); parallel efficiency of an
 * embarrassingly parallel primes job on 1, 2 and 4 browser hosts of one slot each, on this machine's cores.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWasiTaskInNode } from '../src/compute/node-sandbox.ts';
import { browserComputeFigures } from './compute-browser.ts';
import { row, type BenchRow, type BenchSuite } from './table.ts';
import { x86Suite } from './x86.ts';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** Seconds of one native run of primes.c (gcc -O2), and of the WASI build in the Node sandbox. */
async function wasiVsNative(limit: number, n: number): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nephele-primes-'));
  const exe = join(dir, 'primes');
  execFileSync('gcc', ['-O2', '-o', exe, 'guests/wasi/primes.c']);
  const wasm = new Uint8Array(readFileSync('public/examples/primes.wasm'));
  const native: number[] = [];
  const wasi: number[] = [];
  let expected = '';
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const out = spawnSync(exe, [String(limit)], { encoding: 'utf8' });
    native.push((performance.now() - t0) / 1000);
    expected = out.stdout;
    const result = await runWasiTaskInNode({ args: [String(limit)], env: {}, stdin: '', timeLimitMs: 300_000, memoryLimitMiB: 64 }, wasm, 'primes.wasm');
    if (!result.ok || result.stdout !== expected) throw new Error(`E_BENCH_COMPUTE: WASI primes gave ${JSON.stringify(result)} not ${expected}`);
    wasi.push(result.durationMs / 1000);
  }
  const conditions = `primes ${limit} (trial division), median of ${n} alternating runs; native = gcc -O2 process wall time (spawn included); WASI = clang-14 --target=wasm32-wasi -O2 (public/examples/primes.wasm) in the Node sandbox worker thread (V8), from validation + compile to exit, thread start-up not counted`;
  return [
    row({ figure: 'primes.c native (gcc -O2)', value: median(native), unit: 's', reference: null, referenceSource: 'the reference of the next row', n, conditions, better: 'lower' }),
    row({
      figure: 'primes.c WASI in Node sandbox, speed vs native', value: median(native) / median(wasi), unit: '× native', reference: 0.6,
      referenceSource: 'issue #5 goal: ≥ 0.6 × native, same source, same run', n, conditions: `${conditions}; value = native time / WASI time`, better: 'higher',
    }),
  ];
}

export const computeSuite: BenchSuite = {
  name: 'compute',
  async run(quick) {
    const rows: BenchRow[] = [];
    const cores = cpus().length;
    const dispatchHosts = 8;
    const parallelHosts = [1, 2, 4];
    // NEPHELE_BENCH_COMPUTE=dispatch runs the dispatch row alone (NEPHELE_BENCH_CPU=1 adds where its CPU went;
    // NEPHELE_BENCH_DISPATCH_TASKS sets its task count).
    const dispatchOnly = process.env['NEPHELE_BENCH_COMPUTE'] === 'dispatch';
    const dispatchTasks = Number(process.env['NEPHELE_BENCH_DISPATCH_TASKS'] ?? (quick ? 400 : 2000));
    const browser = await browserComputeFigures({
      dispatchHosts, dispatchTasks, parallelHosts, parallelTasks: quick ? 8 : 16, primesArg: quick ? 3_000_000 : 5_000_000,
      dispatchOnly,
    });
    const d = browser.dispatch;
    rows.push(row({
      figure: `dispatch, tiny WASI tasks (exit.wasm), ${d.hosts} browser hosts`, value: d.tasks / d.seconds, unit: 'tasks/s', reference: 500,
      referenceSource: 'issue #5 goal: ≥ 500 tasks/s', n: d.tasks,
      conditions: `${d.hosts} hosts + 1 submitter (Chromium contexts, one machine, ${cores} cores), default 2 slots per host, batch leases (a host holds up to 4 copies per slot once they prove short and runs a slot's batch in one sandbox call), sandbox workers reused across tasks of the job (a fresh guest instance each), 1-of-1, module already cached by a warm-up job; from the submit click to every task accepted`,
      better: 'higher',
    }));
    if (dispatchOnly) return rows;
    const one = browser.parallel.find((p) => p.hosts === 1);
    for (const p of browser.parallel) {
      const speedup = one ? one.seconds / p.seconds : NaN;
      rows.push(row({
        figure: `parallel primes job on ${p.hosts} browser host${p.hosts > 1 ? 's' : ''}: efficiency`, value: speedup / p.hosts, unit: 'speedup/hosts',
        reference: Math.min(p.hosts, cores) / p.hosts,
        referenceSource: `ideal on this ${cores}-core machine: min(hosts, cores)/hosts`, n: p.tasks,
        conditions: `${p.tasks} tasks of primes (one slot per host), ${p.seconds.toFixed(1)} s wall (1 host: ${one?.seconds.toFixed(1)} s); the submitter tab shares the ${cores} cores`,
        better: 'higher',
      }));
    }
    rows.push(...await wasiVsNative(quick ? 2_000_000 : 5_000_000, quick ? 3 : 5));
    const x86 = await x86Suite.run(quick);
    rows.push(...x86.map((r) => ({ ...r, figure: `v86: ${r.figure}`, conditions: `${r.conditions}; from the x86 suite, run again here` })));
    return rows;
  },
};
