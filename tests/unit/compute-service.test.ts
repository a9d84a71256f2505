/**
 * The compute service in real NodeCores joined by an in-memory loopback network (frames are delivered
 * asynchronously, whole), running real WASI examples in the Node sandbox: jobs are published, pulled, their
 * image fetched by hash and verified, run, and decided by quorum; a lying host is outvoted.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeCore } from '../../src/runtime/node-core.ts';
import { runWasiTaskInNode } from '../../src/compute/node-sandbox.ts';
import { computeService } from '../../src/runtime/services/compute-service.ts';
import type { ComputeSnapshot, ComputeTaskResult } from '../../src/runtime/services/compute-types.ts';
import { meshCloud, stopNetworks, waitFor, type CoreSetup } from './support/core-network.ts';

const hello = new Uint8Array(readFileSync('public/examples/hello.wasm'));
const loop = new Uint8Array(readFileSync('public/examples/loop.wasm'));

afterEach(stopNetworks);

function cloud(size: number, hosting = true): Promise<NodeCore[]> {
  const setup: CoreSetup = { tickMs: 100, services: [computeService()], runner: () => (hosting ? { run: runWasiTaskInNode } : null) };
  return meshCloud(Array.from({ length: size }, () => setup));
}

const compute = (core: NodeCore): ComputeSnapshot => core.snapshot().services.compute as ComputeSnapshot;

const until = waitFor;

function job(tasks: string[][], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'hello', tasks: tasks.map((args) => ({ args, env: {}, stdin: '' })), timeLimitMs: 10_000, ...extra };
}

describe('compute service between NodeCores', () => {
  it('runs a published job on other peers, fetching the image by hash, with correct per-task outputs', async () => {
    const [submitter, ...hosts] = await cloud(4);
    const args = Array.from({ length: 8 }, (_, i) => ['task', String(i)]);
    const { jobId } = (await submitter!.command('compute', 'submit', { spec: job(args), image: hello })) as { jobId: string };
    expect(jobId).toMatch(/^[0-9a-f]{16}$/);
    await until(() => compute(submitter!).jobs[0]?.state === 'done', 40_000, 'job done');
    const view = compute(submitter!).jobs[0]!;
    expect(view.done).toBe(8);
    expect(view.total).toBe(8);
    const results = (await submitter!.command('compute', 'results', { jobId })) as ComputeTaskResult[];
    for (const r of results) {
      expect(r.status).toBe('accepted');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain(`task ${r.task}`);
      expect(r.agreeing).not.toContain(submitter!.peerId);
    }
    // The image travelled by hash: every host that ran something fetched it once and cached it.
    const ran = hosts.filter((h) => compute(h).stats.ran > 0);
    expect(ran.length).toBeGreaterThan(0);
    for (const h of ran) expect(compute(h).stats.imagesFetched).toBe(1);
    expect(compute(submitter!).stats.imagesServed).toBeGreaterThanOrEqual(ran.length);
  });

  it('accepts 2-of-3 agreeing results and names the lying host a suspect', async () => {
    const [submitter, liar, ...honest] = await cloud(5);
    await liar!.command('compute', 'testHooks', { lie: true });
    const args = Array.from({ length: 6 }, (_, i) => [`n${i}`]);
    const { jobId } = (await submitter!.command('compute', 'submit', {
      spec: job(args, { redundancy: { n: 3, k: 2 } }), image: hello,
    })) as { jobId: string };
    await until(() => compute(submitter!).jobs[0]?.state === 'done', 50_000, 'quorum job done');
    const results = (await submitter!.command('compute', 'results', { jobId })) as ComputeTaskResult[];
    for (const r of results) {
      expect(r.stdout).toContain(`n${r.task}`);
      expect(r.stdout).not.toContain('forged');
      expect(r.agreeing.length).toBeGreaterThanOrEqual(2);
      expect(r.agreeing).not.toContain(liar!.peerId);
    }
    expect(compute(liar!).stats.ran).toBeGreaterThan(0);
    expect(compute(submitter!).jobs[0]!.suspects).toContain(liar!.peerId);
    for (const h of honest) expect(compute(submitter!).jobs[0]!.suspects).not.toContain(h.peerId);
  });

  it('reports an endless task as failed with E_TIME_LIMIT', async () => {
    const [submitter] = await cloud(2);
    await submitter!.command('compute', 'submit', { spec: job([[]], { timeLimitMs: 500 }), image: loop });
    await until(() => compute(submitter!).jobs[0]?.state === 'failed', 30_000, 'loop job failed');
    expect(compute(submitter!).jobs[0]!.tasks[0]!.error).toBe('E_TIME_LIMIT');
  });

  it('does not lend while paused, and resumes when unpaused', async () => {
    const [submitter, host] = await cloud(2);
    await host!.command('compute', 'setLimits', { maxConcurrent: 1, cpuCapPercent: 50, paused: true });
    expect(compute(host!).limits).toEqual({ maxConcurrent: 1, cpuCapPercent: 50, paused: true });
    await submitter!.command('compute', 'submit', { spec: job([['x']]), image: hello });
    await new Promise((r) => setTimeout(r, 1500));
    expect(compute(submitter!).jobs[0]!.state).toBe('pending');
    expect(compute(host!).stats.ran).toBe(0);
    await host!.command('compute', 'setLimits', { maxConcurrent: 1, cpuCapPercent: 50, paused: false });
    await until(() => compute(submitter!).jobs[0]?.state === 'done', 30_000, 'job done after unpause');
  });

  it('cancels a job: it shows cancelled and its hosts stop', async () => {
    const [submitter, host] = await cloud(2);
    const { jobId } = (await submitter!.command('compute', 'submit', { spec: job([[]], { timeLimitMs: 20_000 }), image: loop })) as { jobId: string };
    await until(() => compute(submitter!).jobs[0]?.state === 'running', 20_000, 'loop running');
    await until(() => compute(host!).hosting.length === 1, 20_000, 'host running it');
    await submitter!.command('compute', 'cancel', { jobId });
    await until(() => compute(submitter!).jobs[0]?.state === 'cancelled', 5_000, 'cancelled');
    await until(() => compute(host!).hosting.length === 0, 5_000, 'host dropped the run');
  });

  it('rejects bad commands with named codes', async () => {
    const [core] = await cloud(1, false);
    const fails = async (command: string, args: unknown) => {
      try {
        await core!.command('compute', command, args);
      } catch (err) {
        return (err as { code?: string }).code;
      }
      return 'no error';
    };
    expect(await fails('submit', { spec: job([['a']]) })).toBe('E_NO_MODULE');
    expect(await fails('submit', { spec: job([['a']]), image: 'not bytes' })).toBe('E_BAD_ARGS');
    expect(await fails('submit', { spec: job([['a']]), image: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) })).toBe('E_NOT_WASM');
    expect(await fails('submit', { spec: job([['a']], { redundancy: { n: 3, k: 1 } }), image: hello })).toBe('E_BAD_JOB');
    expect(await fails('submit', { spec: { ...job([['a']]), image: { kind: 'wasi', sha256: '0'.repeat(64), size: 9 } }, image: hello })).toBe('E_IMAGE_MISMATCH');
    expect(await fails('cancel', { jobId: '0123456789abcdef' })).toBe('E_UNKNOWN_JOB');
    expect(await fails('results', { jobId: 'nope' })).toBe('E_BAD_ARGS');
    expect(await fails('setLimits', { maxConcurrent: -1, cpuCapPercent: 50, paused: false })).toBe('E_BAD_ARGS');
    expect(await fails('setPartner', { origin: 'https://partner.example/page' })).toBe('E_BAD_PARTNER');
    expect(await fails('setPartner', { origin: 'javascript:alert(1)' })).toBe('E_BAD_PARTNER');
    expect(await fails('explode', {})).toBe('E_UNKNOWN_COMMAND');
  });
});
