/**
 * Where a chunk's time goes in a browser put and get: runs the storage bench's put and get (storage-browser.ts)
 * with every node's per-chunk trace on (src/store/storage-trace.ts: set through CDP in each SharedWorker, so the
 * app pays nothing when this bench is not running), then lines the marks of all workers up per chunk — putter,
 * owner, successor holders; getter and holder — and prints the median and p90 of each step. Also the CPU time of
 * Chromium's processes and threads over the put (chromium-cpu.ts) and the machine's idle share (/proc/stat).
 *
 *   npx tsx bench/storage-trace.ts [staticDir=dist] [MiB=16] [peers=4]
 *
 * Run it inside the browser lock and the loopback-only namespace like the benches
 * (`unshare -n sh -c 'ip link set lo up && npx tsx bench/storage-trace.ts'` as root). The raw marks go to
 * /tmp/nephele-storage-trace.json.
 */
import { writeFileSync } from 'node:fs';
import { browserStorageFigures } from './storage-browser.ts';
import { sharedWorkerTargets, type ProfilerTarget } from './cdp-profiler.ts';
import { CLOCK_TICKS_PER_SECOND, chromiumCpuTicks, machineTicks } from './chromium-cpu.ts';
import type { TraceMark } from '../src/store/storage-trace.ts';

type Marks = Map<string, number>;

async function evaluate(t: ProfilerTarget, expression: string): Promise<unknown> {
  const answer = (await t.send('Runtime.evaluate', { expression, returnByValue: true })) as { result?: { value?: unknown } };
  return answer.result?.value;
}

async function collect(workers: readonly ProfilerTarget[]): Promise<TraceMark[][]> {
  return Promise.all(workers.map(async (w) => JSON.parse(String(await evaluate(w, 'JSON.stringify((globalThis.__nepheleStorageTrace ?? []).splice(0))'))) as TraceMark[]));
}

/** Per chunk: role-prefixed mark → time (first occurrence; `…last` names keep the last). */
function putChunks(byWorker: readonly TraceMark[][]): Map<string, Marks> {
  const chunks = new Map<string, Marks>();
  const at = (chunk: string): Marks => chunks.get(chunk) ?? chunks.set(chunk, new Map()).get(chunk)!;
  const set = (m: Marks, name: string, t: number): void => {
    if (!m.has(name)) m.set(name, t);
    m.set(`${name}…last`, Math.max(m.get(`${name}…last`) ?? -Infinity, t));
  };
  for (const marks of byWorker) {
    const putter = new Set(marks.filter((m) => m[1] === 'p.sealed').map((m) => m[2]));
    const forwards = new Set(marks.filter((m) => m[1] === 'rq> put').map((m) => m[2]));
    for (const [t, what, chunk, detail] of marks) {
      if (!chunk) continue;
      const m = at(chunk);
      if (putter.has(chunk)) {
        if (what === 'p.lane') set(m, 'P:seal0', Number(detail));
        set(m, `P:${what}`, t);
      } else if (forwards.has(chunk)) set(m, `O:${what}`, t);
      else set(m, `H:${what}`, t);
    }
  }
  return chunks;
}

function getChunks(byWorker: readonly TraceMark[][]): Map<string, Marks> {
  const chunks = new Map<string, Marks>();
  for (const marks of byWorker) {
    const getter = new Set(marks.filter((m) => m[1] === 'g.lane').map((m) => m[2]));
    for (const [t, what, chunk] of marks) {
      if (!chunk) continue;
      const m = chunks.get(chunk) ?? chunks.set(chunk, new Map()).get(chunk)!;
      const name = `${getter.has(chunk) ? 'G' : 'S'}:${what}`;
      if (!m.has(name)) m.set(name, t);
    }
  }
  return chunks;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Median, p90 and count of `to - from` over the chunks that have both marks. */
function steps(title: string, chunks: Map<string, Marks>, list: readonly [string, string, string][]): void {
  console.log(`== ${title} (${chunks.size} chunks; ms: median / p90 / n)`);
  for (const [label, from, to] of list) {
    const d = [...chunks.values()].filter((m) => m.has(from) && m.has(to)).map((m) => m.get(to)! - m.get(from)!);
    if (d.length === 0) continue;
    console.log(`  ${label.padEnd(58)} ${quantile(d, 0.5).toFixed(1).padStart(8)} ${quantile(d, 0.9).toFixed(1).padStart(8)} ${String(d.length).padStart(4)}`);
  }
}

/** Time each worker's IndexedDB writes were busy (tx0 → tx1 summed) and its verifies, against the phase's wall. */
function storeBusy(byWorker: readonly TraceMark[][], wallMs: number): void {
  byWorker.forEach((marks, w) => {
    const open = new Map<string, number>();
    let tx = 0, n = 0;
    const durability = new Set<string>();
    for (const [t, what, chunk, detail] of marks) {
      if (what === 'idb.tx0') open.set(chunk, t);
      if (what === 'idb.tx1' && open.has(chunk)) {
        tx += t - open.get(chunk)!;
        n++;
        durability.add(detail);
      }
    }
    if (n > 0) console.log(`  worker ${w}: ${n} IndexedDB writes, ${tx.toFixed(0)} ms in transactions (${((100 * tx) / wallMs).toFixed(0)}% of the put), durability ${[...durability].join(',')}`);
  });
}

function cpuReport(before: Map<string, number>, after: Map<string, number>, machine: { busy: number; idle: number }, seconds: number): void {
  const byType = new Map<string, number>();
  const byThread = new Map<string, number>();
  const byProcess = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, d: number): void => void m.set(k, (m.get(k) ?? 0) + d);
  for (const [key, ticks] of after) {
    const d = ticks - (before.get(key) ?? 0);
    if (d <= 0) continue;
    // Keys are "type / thread pid" (chromiumCpuTicks(true)).
    const pid = key.slice(key.lastIndexOf(' ') + 1);
    const type = key.split(' / ')[0]!;
    add(byType, type, d);
    add(byThread, key.slice(0, key.lastIndexOf(' ')), d);
    add(byProcess, `${type} ${pid}`, d);
  }
  const cores = (ticks: number): string => (ticks / CLOCK_TICKS_PER_SECOND / seconds).toFixed(2);
  const total = [...byType.values()].reduce((a, b) => a + b, 0);
  console.log(`== CPU during the put (${seconds.toFixed(1)} s): Chromium ${cores(total)} cores; machine idle share ${((100 * machine.idle) / (machine.busy + machine.idle)).toFixed(0)}% of all cores`);
  for (const [type, t] of [...byType].sort((a, b) => b[1] - a[1])) console.log(`  ${type.padEnd(40)} ${cores(t)} cores`);
  for (const [key, t] of [...byThread].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`    ${key.padEnd(56)} ${cores(t)} cores`);
  console.log('  busiest processes:');
  for (const [key, t] of [...byProcess].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`    ${key.padEnd(56)} ${cores(t)} cores`);
}

async function main(): Promise<void> {
  const [staticDir = 'dist', mibArg = '16', peersArg = '4'] = process.argv.slice(2);
  let workers: ProfilerTarget[] = [];
  let putMarks: TraceMark[][] = [];
  let getMarks: TraceMark[][] = [];
  let cpuBefore = new Map<string, number>();
  let cpuAfter = new Map<string, number>();
  let machineBefore = machineTicks();
  let machine = { busy: 0, idle: 0 };
  let putStarted = 0;
  let putMs = 0;
  const figures = await browserStorageFigures(Number(peersArg), Number(mibArg), {
    staticDir, lookups: false,
    onPhase: async (phase, browser) => {
      if (phase === 'put-start') {
        workers = await sharedWorkerTargets(browser);
        for (const w of workers) await evaluate(w, 'globalThis.__nepheleStorageTrace = []; 0');
        cpuBefore = chromiumCpuTicks(true);
        machineBefore = machineTicks();
        putStarted = performance.now();
      } else if (phase === 'put-done') {
        putMs = performance.now() - putStarted;
        cpuAfter = chromiumCpuTicks(true);
        const m = machineTicks();
        machine = { busy: m.busy - machineBefore.busy, idle: m.idle - machineBefore.idle };
        putMarks = await collect(workers);
      } else {
        getMarks = await collect(workers);
      }
    },
  });
  writeFileSync('/tmp/nephele-storage-trace.json', JSON.stringify({ putMarks, getMarks }));
  console.log(`put ${figures.bytes / 2 ** 20} MiB in ${figures.putSeconds.toFixed(2)} s (${(figures.bytes / 1e6 / figures.putSeconds).toFixed(2)} MB/s); get ${figures.getError ?? `${figures.getSeconds.toFixed(2)} s (${(figures.bytes / 1e6 / figures.getSeconds).toFixed(2)} MB/s)`}`);
  const put = putChunks(putMarks);
  steps('put, per chunk', put, [
    ['putter: seal + chunk id', 'P:seal0', 'P:p.sealed'],
    ['putter: owner lookup', 'P:p.sealed', 'P:p.owner'],
    ['putter: frame encoded and handed to the link', 'P:p.owner', 'P:rq> put'],
    ['putter → owner: request frame arrives (link + crossings)', 'P:rq> put', 'O:rq< put'],
    ['owner: waits for its store queue', 'O:q.queued', 'O:q.slot'],
    ['owner: SHA-256 verify', 'O:q.slot', 'O:idb.verified'],
    ['owner: waits for IndexedDB chain', 'O:idb.verified', 'O:idb.tx0'],
    ['owner: IndexedDB transaction', 'O:idb.tx0', 'O:idb.tx1'],
    ['owner: arrival → own copy stored', 'O:rq< put', 'O:s.stored'],
    ['owner: arrival → first copy sent', 'O:rq< put', 'O:rq> put'],
    ['owner → holder: copy arrives (first holder)', 'O:rq> put', 'H:rq< put'],
    ['owner → holder: copy arrives (last holder)', 'O:rq> put…last', 'H:rq< put…last'],
    ['holder: arrival → queue slot (first)', 'H:rq< put', 'H:q.slot'],
    ['holder: IndexedDB transaction (first)', 'H:idb.tx0', 'H:idb.tx1'],
    ['holder: arrival → ack sent (last holder)', 'H:rq< put…last', 'H:an> put…last'],
    ['holder → owner: ack arrives (last)', 'H:an> put…last', 'O:an< stored…last'],
    ['owner: arrival → all copies settled', 'O:rq< put', 'O:s.copies'],
    ['owner: ack sent → putter has it', 'O:an> put', 'P:an< stored'],
    ['putter: handed to link → ack (whole request)', 'P:rq> put', 'P:an< stored'],
    ['putter: own copy after the ack', 'P:an< stored', 'P:p.own'],
    ['putter: lane start → chunk done', 'P:seal0', 'P:p.done'],
  ]);
  const lanes = [...put.values()].filter((m) => m.has('P:seal0') && m.has('P:p.done'));
  if (lanes.length > 0) {
    const t0 = Math.min(...lanes.map((m) => m.get('P:seal0')!));
    const t1 = Math.max(...lanes.map((m) => m.get('P:p.done')!));
    console.log(`  chunks' span ${(t1 - t0).toFixed(0)} ms; put wall ${putMs.toFixed(0)} ms`);
  }
  storeBusy(putMarks, putMs);
  steps('get, per chunk', getChunks(getMarks), [
    ['getter: lane → owner looked up', 'G:g.lane', 'G:g.owner'],
    ['getter: owner → replica set known', 'G:g.owner', 'G:g.holders'],
    ['getter: request handed to the link', 'G:g.holders', 'G:rq> get'],
    ['getter → holder: request arrives', 'G:rq> get', 'S:rq< get'],
    ['holder: IndexedDB read', 'S:rq< get', 'S:s.read'],
    ['holder: answer encoded and handed to the link', 'S:s.read', 'S:an> get'],
    ['holder → getter: chunk arrives', 'S:an> get', 'G:an< chunk'],
    ['getter: verify (SHA-256)', 'G:g.got', 'G:g.verified'],
    ['getter: decrypt', 'G:g.fetched', 'G:g.opened'],
    ['getter: lane → chunk done', 'G:g.lane', 'G:g.opened'],
  ]);
  cpuReport(cpuBefore, cpuAfter, machine, putMs / 1000);
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
