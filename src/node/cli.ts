/**
 * The Nephele command line (MISSION.md §6, EC2-style verbs; see cli-args.ts for the grammar), e.g.
 *
 *   npm run cli -- run-instances --url ws://127.0.0.1:8080/signal --cloud public --slice fast --top 10 --attribute cpuScore
 *   npm run cli -- monitor-instances          (JSON lines every second; Ctrl-C to stop = unmonitor)
 *   npm run cli -- put photo.jpg  /  get 'nephele://…#k=…' -o photo.jpg
 *   npm run cli -- submit hello.wasm --tasks 4 --args 'task {i}' --wait
 *
 * Each run starts its own Node peer (node-peer.ts), waits to be linked into the cloud, runs the command through
 * the SDK against that peer's node core, prints the result as one JSON line on stdout and exits 0. On failure it
 * prints {"ok":false,"code":"E_…","message":…} on stdout and `E_…: message` on stderr, and exits 1 (2 for usage).
 */
import { NepheleError } from '../core/errors.ts';
import { generateIdentity } from '../identity/identity.ts';
import { shutdownNodeWebRtc } from '../net/platform-node.ts';
import { errorCode } from '../sdk/nephele-sdk.ts';
import { parseCliArgs, type CliCommand, type CliGlobals } from './cli-args.ts';
import { runCliCommand } from './cli-run.ts';
import { loadOrCreateIdentityFile } from './identity-file.ts';
import { startNodePeer, type NodePeer } from './node-peer.ts';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const parsed = parseCliArgs(process.argv.slice(2));
if (!parsed.ok) {
  fail(parsed.code, parsed.reason, EXIT_USAGE);
} else {
  const abort = new AbortController();
  // The first Ctrl-C ends a monitor (or a --wait) cleanly; a second one exits at once.
  const interrupt = (): void => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const code = await main(parsed.value.globals, parsed.value.command, abort.signal);
  process.exit(code);
}

async function main(globals: CliGlobals, command: CliCommand, signal: AbortSignal): Promise<number> {
  let peer: NodePeer | null = null;
  let exitCode = 0;
  try {
    const identity = globals.identity ? await loadOrCreateIdentityFile(globals.identity) : await generateIdentity();
    peer = startNodePeer({
      identity, signalingUrl: globals.url, cloud: globals.cloud, secret: globals.secret ?? process.env.NEPHELE_SECRET ?? null,
    });
    const core = peer.core;
    await waitFor(signal, globals.linkTimeoutMs, 'E_NOT_LINKED', `no link to another peer of cloud "${globals.cloud}" at ${globals.url}`,
      () => core.snapshot().connections.length > 0);
    if (command.verb === 'run-instances' || command.verb === 'add-instances') {
      // A slice is sized against the cloud's estimated size, known once this peer's first aggregation epoch ends.
      await waitFor(signal, globals.linkTimeoutMs, 'E_NO_ESTIMATE', 'the cloud size is not estimated yet', () => {
        const cloud = core.snapshot().services.cloud as { totals?: { peers?: number | null } } | undefined;
        return (cloud?.totals?.peers ?? null) !== null;
      });
    }
    const result = await runCliCommand(core, command, { print: (line) => console.log(line), signal });
    if (command.verb !== 'monitor-instances') console.log(JSON.stringify(result));
    if (command.verb === 'put') {
      // Hand this peer's copies to its ring neighbours before it leaves (storage-replication.ts).
      await core.command('storage', 'leave', {}).catch(() => undefined);
    }
  } catch (err) {
    exitCode = report(err);
  } finally {
    if (peer) await peer.stop();
    shutdownNodeWebRtc();
  }
  return exitCode;
}

/** Resolves once `ready()` holds; rejects with `code` after `timeoutMs` or when interrupted. */
async function waitFor(signal: AbortSignal, timeoutMs: number, code: string, what: string, ready: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ready()) {
    if (signal.aborted) throw new NepheleError('E_INTERRUPTED', 'interrupted');
    if (Date.now() > end) throw new NepheleError(code, `${what} after ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function report(err: unknown): number {
  const code = errorCode(err) ?? 'E_FAILED';
  const text = err instanceof Error ? err.message : String(err);
  const message = text.startsWith(`${code}: `) ? text.slice(code.length + 2) : text;
  fail(code, message, EXIT_FAILED);
  return EXIT_FAILED;
}

function fail(code: string, message: string, exitCode: number): void {
  console.log(JSON.stringify({ ok: false, code, message }));
  console.error(`${code}: ${message}`);
  if (exitCode === EXIT_USAGE) {
    console.error('usage: npm run cli -- <run-instances|add-instances|terminate-instances|describe-instances|release-slice|set-site|monitor-instances|put|get|submit> [options]  (see src/node/cli-args.ts)');
    process.exit(exitCode);
  }
}
