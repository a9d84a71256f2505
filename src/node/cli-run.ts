/**
 * Carries out one parsed CLI command (cli-args.ts) through the typed SDK against a running node: reads and writes
 * the files it names, and hands back JSON-ready results. `monitor-instances` prints one line per interval through
 * `print` instead (totals from the node's snapshot) until its count runs out or `signal` aborts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { NepheleError } from '../core/errors.ts';
import type { NodeSnapshot } from '../runtime/api.ts';
import { NepheleSdk, serviceStates, type CommandFn } from '../sdk/nephele-sdk.ts';
import type { ComputeTaskResult } from '../runtime/services/compute-types.ts';
import type { CliCommand } from './cli-args.ts';

/** What the CLI needs of its node: NodeCore satisfies it. */
export interface CliNode {
  readonly command: CommandFn;
  snapshot(): NodeSnapshot;
}

export interface CliIo {
  readonly print: (line: string) => void;
  /** Aborts a long-running command (monitor, submit --wait): Ctrl-C. */
  readonly signal: AbortSignal;
}

/** One line of `monitor-instances`: cloud totals and this node's view of its slices. */
export interface MonitorLine {
  readonly t: number;
  /** Estimated cloud size (aggregation; the cloud service's figure when it runs); null before the first epoch. */
  readonly size: number | null;
  readonly links: number;
  readonly avgLoad: number | null;
  readonly totalLoad: number | null;
  readonly freeCores: number | null;
  readonly freeMemoryMB: number | null;
  readonly freeStorageMB: number | null;
  readonly liveSlices: number | null;
  readonly slices: readonly { readonly name: string; readonly size: number; readonly owner: string }[];
}

export async function runCliCommand(node: CliNode, command: CliCommand, io: CliIo): Promise<unknown> {
  const sdk = new NepheleSdk((service, name, args) => node.command(service, name, args));
  switch (command.verb) {
    case 'run-instances':
      return sdk.cloud.runInstances({ slice: command.slice, query: command.query, ...(command.n === undefined ? {} : { n: command.n }) });
    case 'add-instances':
      return sdk.cloud.addInstances(command.slice, command.n);
    case 'terminate-instances':
      return sdk.cloud.terminateInstances(command.slice, command.peers);
    case 'describe-instances':
      return sdk.cloud.describeInstances(command.slice);
    case 'release-slice':
      return sdk.cloud.releaseSlice(command.slice);
    case 'set-site':
      return sdk.cloud.setSite(command.site);
    case 'monitor-instances':
      return monitor(node, command.intervalMs, command.count, io);
    case 'put': {
      const bytes = await readInput(command.file);
      return sdk.storage.put(basename(command.file), bytes);
    }
    case 'get': {
      const file = await sdk.storage.get(command.link);
      await writeFile(command.output, file.bytes);
      return { name: file.name, size: file.bytes.byteLength, output: command.output };
    }
    case 'submit': {
      const image = await readInput(command.module);
      if (command.slice !== undefined) await waitForSlice(node, command.slice, io.signal);
      const { jobId } = await sdk.compute.submit(image, {
        name: basename(command.module),
        tasks: command.taskArgs.map((args) => ({ args: [...args], env: {}, stdin: command.stdin })),
        timeLimitMs: command.timeLimitMs,
        redundancy: command.redundancy,
        ...(command.slice === undefined ? {} : { slice: command.slice }),
      });
      if (!command.wait) return { jobId, tasks: command.taskArgs.length };
      return { jobId, results: await waitForResults(() => sdk.compute.results(jobId), io.signal) };
    }
  }
}

export function monitorLine(snapshot: NodeSnapshot): MonitorLine {
  const cloud = serviceStates(snapshot).cloud;
  const totals = cloud?.totals;
  return {
    t: snapshot.now,
    size: totals?.peers ?? snapshot.estimatedSize,
    links: snapshot.connections.length,
    avgLoad: totals?.avgLoad ?? null,
    totalLoad: totals?.totalLoad ?? null,
    freeCores: totals?.freeCores ?? null,
    freeMemoryMB: totals?.freeMemoryMB ?? null,
    freeStorageMB: totals?.freeStorageMB ?? null,
    liveSlices: totals?.liveSlices ?? null,
    slices: (cloud?.slices ?? []).map((s) => ({ name: s.name, size: s.size, owner: s.owner })),
  };
}

async function monitor(node: CliNode, intervalMs: number, count: number | null, io: CliIo): Promise<{ lines: number }> {
  let lines = 0;
  while (!io.signal.aborted && (count === null || lines < count)) {
    io.print(JSON.stringify(monitorLine(node.snapshot())));
    lines++;
    if (count !== null && lines >= count) break;
    await sleep(intervalMs, io.signal);
  }
  return { lines };
}

const FINISHED = new Set<ComputeTaskResult['status']>(['accepted', 'failed', 'cancelled']);

async function waitForResults(poll: () => Promise<ComputeTaskResult[]>, signal: AbortSignal): Promise<ComputeTaskResult[]> {
  for (;;) {
    const results = await poll();
    if (results.every((r) => FINISHED.has(r.status))) return results;
    if (signal.aborted) throw new NepheleError('E_INTERRUPTED', 'stopped waiting for the job (it keeps running in the cloud until this peer leaves)');
    await sleep(500, signal);
  }
}

/** How long `submit --slice` waits for this fresh peer's directory to name members of the slice. */
const SLICE_WAIT_MS = 30_000;

/**
 * A CLI peer is new to the cloud: it learns who belongs to a slice from the gossiped directory a few rounds after
 * joining. Waits until the cloud service names a member (or the wait runs out: submit then fails E_UNKNOWN_SLICE).
 */
async function waitForSlice(node: CliNode, slice: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + SLICE_WAIT_MS;
  while (!signal.aborted && Date.now() < deadline) {
    try {
      await node.command('cloud', 'membership', { slice });
      return;
    } catch {
      await sleep(500, signal);
    }
  }
}

async function readInput(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    throw new NepheleError('E_READ_FILE', `cannot read ${path} (${code})`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
