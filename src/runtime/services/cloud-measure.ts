/**
 * Measures this node's attributes on the platform it runs on (browser SharedWorker or Node): cores
 * (navigator.hardwareConcurrency, else os.cpus() in Node, else 2), memory (navigator.deviceMemory, else
 * os.totalmem() in Node, else a stated default of 4096 MB), storage (navigator.storage.estimate() quota, else a
 * stated default of 1024 MB), and cpuScore from a micro-benchmark: a hand-assembled WebAssembly loop
 * (acc = acc * 31 + i, i counting down), timed until it runs for ~20 ms; the score is millions of loop
 * iterations per second. Where WebAssembly is missing a JS loop of the same shape runs instead (method 'js';
 * its scores are not comparable with wasm scores).
 */

export const DEFAULT_MEMORY_MB = 4096;
export const DEFAULT_STORAGE_MB = 1024;

export interface PlatformFacts {
  readonly cores: number;
  readonly memoryMB: number;
  readonly memorySource: 'measured' | 'default';
  readonly storageMB: number;
}

/**
 * (module (func (export "run") (param i32) (result i32) (local i32)
 *   (loop (local.set 1 (i32.add (i32.mul (local.get 1) (i32.const 31)) (local.get 0)))
 *         (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
 *   (local.get 1)))
 */
const BENCH_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, // type: (i32) -> i32
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x07, 0x07, 0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x00, // export "run"
  0x0a, 0x1e, 0x01, 0x1c, 0x01, 0x01, 0x7f, // code: one body of 28 bytes, one i32 local
  0x03, 0x40, // loop
  0x20, 0x01, 0x41, 0x1f, 0x6c, 0x20, 0x00, 0x6a, 0x21, 0x01, // acc = acc * 31 + i
  0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, // br_if (i = i - 1)
  0x0b, 0x20, 0x01, 0x0b, // end loop; return acc
]);

const TARGET_MS = 20;

export interface CpuScore {
  readonly score: number;
  readonly method: 'wasm' | 'js';
}

function jsLoop(n: number): number {
  let acc = 0;
  for (let i = n; i > 0; i--) acc = (Math.imul(acc, 31) + i) | 0;
  return acc;
}

function wasmLoop(): ((n: number) => number) | null {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(BENCH_WASM));
    return instance.exports['run'] as (n: number) => number;
  } catch {
    return null;
  }
}

/** Runs the loop with doubling iteration counts until one run takes TARGET_MS; returns Mloops/s. */
export function measureCpuScore(clock: () => number = () => performance.now()): CpuScore {
  const wasm = typeof WebAssembly === 'object' ? wasmLoop() : null;
  const run = wasm ?? jsLoop;
  let n = 100_000;
  for (let round = 0; round < 20; round++) {
    const start = clock();
    run(n);
    const ms = clock() - start;
    if (ms >= TARGET_MS || n >= 2 ** 30) return { score: Math.round(n / Math.max(ms, 0.001) / 100) / 10, method: wasm ? 'wasm' : 'js' };
    n *= 2;
  }
  return { score: 0, method: wasm ? 'wasm' : 'js' };
}

interface NavigatorLike {
  hardwareConcurrency?: unknown;
  deviceMemory?: unknown;
  storage?: { estimate?: () => Promise<{ quota?: number }> };
}

interface NodeOs {
  cpus(): unknown[];
  totalmem(): number;
}

let nodeOs: NodeOs | null | undefined;

/** Node's `os` module when running in Node (loaded once, by a name bundlers leave alone), else null. */
async function loadNodeOs(): Promise<NodeOs | null> {
  if (nodeOs !== undefined) return nodeOs;
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (!proc?.versions?.node) return (nodeOs = null);
  try {
    const name = ['node', 'os'].join(':');
    nodeOs = (await import(/* @vite-ignore */ name)) as NodeOs;
  } catch {
    nodeOs = null;
  }
  return nodeOs;
}

export async function measurePlatform(): Promise<PlatformFacts> {
  const nav = (globalThis as { navigator?: NavigatorLike }).navigator;
  const os = await loadNodeOs();
  let cores = typeof nav?.hardwareConcurrency === 'number' ? nav.hardwareConcurrency : os ? os.cpus().length : 2;
  cores = Math.max(1, Math.min(4096, Math.floor(cores)));
  let memoryMB = DEFAULT_MEMORY_MB;
  let memorySource: PlatformFacts['memorySource'] = 'default';
  if (typeof nav?.deviceMemory === 'number' && nav.deviceMemory > 0) {
    memoryMB = Math.round(nav.deviceMemory * 1024);
    memorySource = 'measured';
  } else if (os) {
    memoryMB = Math.round(os.totalmem() / 2 ** 20);
    memorySource = 'measured';
  }
  let storageMB = DEFAULT_STORAGE_MB;
  try {
    const quota = (await nav?.storage?.estimate?.())?.quota;
    if (typeof quota === 'number' && quota > 0) storageMB = Math.round(quota / 2 ** 20);
  } catch {
    /* no storage estimate here: keep the default */
  }
  return { cores, memoryMB: Math.min(memoryMB, 1e9), memorySource, storageMB: Math.min(storageMB, 1e9) };
}
