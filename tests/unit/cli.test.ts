/**
 * The CLI for real: a signaling server and two Node peers in this process, and `src/node/cli.ts` run as its own
 * process (as `npm run cli` runs it), which starts a third peer. monitor-instances prints JSON lines until the
 * estimated size reaches 2 and stops cleanly on Ctrl-C (SIGINT); put then get round-trips a file through the
 * cloud's storage; run-instances allocates a slice; failures exit non-zero with their E_ code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSignalingServer, type SignalingServer } from '../../signaling/server.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import { startNodePeer, type NodePeer } from '../../src/node/node-peer.ts';

const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLOUD = 'cli-test';

let server: SignalingServer;
const peers: NodePeer[] = [];
const children: ChildProcess[] = [];
let dir: string;

beforeAll(async () => {
  server = await startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: null });
  for (let i = 0; i < 2; i++) {
    peers.push(startNodePeer({ identity: await generateIdentity(), signalingUrl: server.wsUrl, cloud: CLOUD, secret: null }));
  }
  dir = await mkdtemp(join(tmpdir(), 'nephele-cli-'));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const p of peers) await p.stop();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  readonly lines: string[];
  stderr: string;
  readonly exited: Promise<number | null>;
}

function cli(args: string[]): Run {
  const child = spawn(TSX, ['src/node/cli.ts', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const run: Run = { child, lines: [], stderr: '', exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    run.lines.push(...parts.filter((l) => l.trim() !== ''));
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (run.stderr += chunk));
  return run;
}

async function until(what: string, cond: () => boolean, ms: number, run?: Run): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${run ? `\nstdout:\n${run.lines.join('\n')}\nstderr:\n${run.stderr}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function lastJson(run: Run): Record<string, unknown> {
  const line = run.lines.at(-1);
  if (line === undefined) throw new Error(`no output; stderr:\n${run.stderr}`);
  return JSON.parse(line) as Record<string, unknown>;
}

// The first four run side by side (each CLI run is its own peer); the storage round trip runs after them.
describe.concurrent('nephele CLI against a real cloud', () => {
  it('refuses bad usage with E_USAGE and exit code 2', async () => {
    const run = cli(['run-instances', '--slice', 'fast', '--top', '10']);
    expect(await run.exited).toBe(2);
    expect(lastJson(run)).toMatchObject({ ok: false, code: 'E_USAGE' });
    expect(run.stderr).toMatch(/^E_USAGE: --top needs --attribute/);
  });

  it('exits 1 with E_NOT_LINKED when no peer of the cloud answers', async () => {
    const run = cli(['describe-instances', '--slice', 's', '--url', server.wsUrl, '--cloud', 'nobody-here', '--link-timeout', '2']);
    expect(await run.exited).toBe(1);
    expect(lastJson(run)).toMatchObject({ ok: false, code: 'E_NOT_LINKED' });
  });

  it('monitor-instances prints totals every interval, sees size >= 2, and stops on Ctrl-C', async () => {
    const run = cli(['monitor-instances', '--url', server.wsUrl, '--cloud', CLOUD, '--interval-ms', '500']);
    const sizes = (): number[] => run.lines.map((l) => (JSON.parse(l) as { size: number | null }).size ?? 0);
    await until('an estimated size of at least 2', () => sizes().some((s) => s >= 2), 45_000, run);
    const line = JSON.parse(run.lines.at(-1)!) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(expect.arrayContaining(['t', 'size', 'links', 'avgLoad', 'liveSlices', 'slices']));
    expect(line.links).toBeGreaterThanOrEqual(1);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.stderr).not.toMatch(/E_[A-Z]/);
  }, 55_000);

  it('run-instances allocates a slice of the peer with the most cpuScore and prints it', async () => {
    const run = cli(['run-instances', '--url', server.wsUrl, '--cloud', CLOUD, '--slice', 'fast', '--most', '1', '--attribute', 'cpuScore']);
    expect(await run.exited, `${run.lines.join('\n')}\n${run.stderr}`).toBe(0);
    const slice = lastJson(run) as { name: string; size: number; members: string[]; query: unknown };
    expect(slice).toMatchObject({ name: 'fast', size: 1, query: { kind: 'top-count', n: 1, attribute: 'cpuScore' } });
    expect(slice.members).toHaveLength(1);
    expect(slice.members[0]).toMatch(/^[0-9a-f]{40}$/);
  }, 55_000);
});

describe('nephele CLI storage', () => {
  it('put then get round-trips a file through the cloud', async () => {
    const input = join(dir, 'notes.txt');
    const output = join(dir, 'copy.txt');
    const content = `nephele cli round trip ${'x'.repeat(5000)}\n`;
    await writeFile(input, content);
    const put = cli(['put', input, '--url', server.wsUrl, '--cloud', CLOUD]);
    expect(await put.exited, put.stderr).toBe(0);
    const { link } = lastJson(put) as { link: string };
    expect(link).toMatch(/^nephele:\/\/[0-9a-f]{64}#k=/);
    const get = cli(['get', link, '-o', output, '--url', server.wsUrl, '--cloud', CLOUD]);
    expect(await get.exited, get.stderr).toBe(0);
    expect(lastJson(get)).toEqual({ name: 'notes.txt', size: Buffer.byteLength(content), output });
    expect(await readFile(output, 'utf8')).toBe(content);
  }, 55_000);
});
