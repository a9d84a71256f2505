/**
 * A/B of a get-side setting inside one cloud: one put, then gets of the same file by the same peer, alternating
 * between two values of a setting the bench writes into every node's SharedWorker through CDP as
 * `globalThis[<name>]` before each get (only an A/B build of the app reads it; the committed app has no such
 * knob). Same peers, same chunks, same links — the fairest comparison this shared machine allows.
 *
 *   npx tsx bench/storage-get-ab.ts <staticDir> <global name> <valueA> <valueB> [rounds=3] [MiB=32] [peers=8]
 *
 * With NEPHELE_GET_AB_TRACE=1 every node's per-chunk trace (src/store/storage-trace.ts) is on, and each get prints
 * the median time its chunks took from the holder handing the answer to its link until the getter had it, and
 * how many storage requests of each kind the nodes sent meanwhile (e.g. re-replication's copies and checks).
 *
 * Run it inside the browser lock and the loopback-only namespace like the benches.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSignalingServer } from '../signaling/server.ts';
import { launchChromium, numberOf, openPeer, waitUntil, type PeerTab } from '../tests/browser/harness.ts';
import { sharedWorkerTargets } from './cdp-profiler.ts';
import { chromiumCpuSeconds } from './chromium-cpu.ts';
import type { TraceMark } from '../src/store/storage-trace.ts';

type Worker = Awaited<ReturnType<typeof sharedWorkerTargets>>[number];

/** Collects and clears every worker's trace; prints the chunks' transfer median and the requests sent, by kind. */
async function traceSummary(workers: readonly Worker[]): Promise<string> {
  const all = await Promise.all(workers.map(async (w) => {
    const a = (await w.send('Runtime.evaluate', { expression: 'JSON.stringify((globalThis.__nepheleStorageTrace ?? []).splice(0))', returnByValue: true })) as { result?: { value?: string } };
    return JSON.parse(a.result?.value ?? '[]') as TraceMark[];
  }));
  const sent = new Map<string, number>();
  const answered = new Map<string, number>();
  const arrived = new Map<string, number>();
  for (const marks of all) {
    for (const [t, what, chunk] of marks) {
      if (what.startsWith('rq> ')) sent.set(what.slice(4), (sent.get(what.slice(4)) ?? 0) + 1);
      if (what === 'an> get') answered.set(chunk, t);
      if (what === 'an< chunk') arrived.set(chunk, t);
    }
  }
  const transfer = [...arrived].filter(([c]) => answered.has(c)).map(([c, t]) => t - answered.get(c)!).sort((a, b) => a - b);
  const med = transfer[Math.floor(transfer.length / 2)] ?? NaN;
  return `chunk transfer holder → getter median ${med.toFixed(0)} ms (${transfer.length} chunks); requests sent: ${[...sent].map(([k, n]) => `${k} ${n}`).join(', ')}`;
}

async function main(): Promise<void> {
  const [staticDir, name, valueA, valueB, roundsArg = '3', mibArg = '32', peersArg = '8'] = process.argv.slice(2);
  if (!staticDir || !name || valueA === undefined || valueB === undefined) throw new Error('usage: storage-get-ab.ts <staticDir> <global> <valueA> <valueB> [rounds] [MiB] [peers]');
  const peers = Number(peersArg);
  const bytes = Number(mibArg) * 2 ** 20;
  const dir = await mkdtemp(join(tmpdir(), 'nephele-get-ab-'));
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir, maxConnectionsPerAddress: 256 });
  const browser = await launchChromium();
  try {
    const url = `${server.url}/?cloud=bench-get-ab&tick=300`;
    const tabs: PeerTab[] = [];
    for (let i = 0; i < peers; i++) tabs.push(await openPeer(browser, url));
    for (const t of tabs) await waitUntil(async () => (await numberOf(t.page, 'storage-successors')) >= Math.min(3, peers - 1), 90_000 + peers * 3000, `ring at ${t.peerId.slice(0, 8)}`);
    await new Promise((r) => setTimeout(r, 3000));
    const path = join(dir, 'bench.bin');
    await writeFile(path, randomBytes(bytes));
    const putter = tabs[0]!.page;
    await putter.getByTestId('storage-file').setInputFiles(path);
    let t0 = performance.now();
    await putter.getByTestId('storage-put').click();
    await putter.locator('[data-testid="storage-link"], [data-testid="storage-put-error"]').first().waitFor({ timeout: 300_000 });
    console.log(`put ${(bytes / 1e6 / ((performance.now() - t0) / 1000)).toFixed(2)} MB/s`);
    const link = ((await putter.getByTestId('storage-link').textContent()) ?? '').trim();
    if (!link) throw new Error(`put failed: ${await putter.getByTestId('storage-put-error').textContent()}`);
    const workers = await sharedWorkerTargets(browser);
    const tracing = process.env['NEPHELE_GET_AB_TRACE'] === '1';
    const getter = tabs[tabs.length - 1]!.page;
    await getter.getByTestId('storage-get-link').fill(link);
    const button = getter.getByTestId('storage-get');
    const results: { label: string; mbs: number; cpuMsPerMiB: number }[] = [];
    for (let round = 0; round < Number(roundsArg); round++) {
      for (const [label, value] of round % 2 === 0 ? [['A', valueA], ['B', valueB]] : [['B', valueB], ['A', valueA]]) {
        for (const w of workers) await w.send('Runtime.evaluate', { expression: `globalThis[${JSON.stringify(name)}] = ${JSON.stringify(value)}; ${tracing ? 'globalThis.__nepheleStorageTrace = [];' : ''} 0` });
        const cpu0 = chromiumCpuSeconds();
        t0 = performance.now();
        await button.click();
        await waitUntil(async () => await button.isEnabled(), 300_000, 'get finished');
        const seconds = (performance.now() - t0) / 1000;
        const cpu = chromiumCpuSeconds() - cpu0;
        if ((await getter.getByTestId('storage-get-error').count()) > 0) {
          console.log(`${label} (${value}): get failed: ${await getter.getByTestId('storage-get-error').textContent()}`);
          continue;
        }
        const r = { label: label!, mbs: bytes / 1e6 / seconds, cpuMsPerMiB: (1000 * cpu) / (bytes / 2 ** 20) };
        results.push(r);
        console.log(`${label} (${value}): get ${r.mbs.toFixed(2)} MB/s, Chromium CPU ${r.cpuMsPerMiB.toFixed(0)} ms per MiB${tracing ? `; ${await traceSummary(workers)}` : ''}`);
      }
    }
    for (const label of ['A', 'B']) {
      const mine = results.filter((r) => r.label === label);
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      console.log(`${label} mean: get ${mean(mine.map((r) => r.mbs)).toFixed(2)} MB/s over ${mine.length} runs, CPU ${mean(mine.map((r) => r.cpuMsPerMiB)).toFixed(0)} ms per MiB`);
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
