/**
 * The compute service's second round between real NodeCores on an in-memory loopback network: an x86 job (the
 * committed multiboot guest, from its booted snapshot) runs only on hosts whose runner can run x86, with images
 * fetched by hash from the submitter; hosts earn credit only for results the quorum accepted (a liar earns none);
 * a runner that is not taking tasks makes its host hand leases back so they run elsewhere.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeCore } from '../../src/runtime/node-core.ts';
import type { SandboxRunner } from '../../src/runtime/job-service.ts';
import { runWasiTaskInNode } from '../../src/compute/node-sandbox.ts';
import { runX86TaskInNode } from '../../src/compute/node-x86-sandbox.ts';
import { x86GuestIndexSchema } from '../../src/compute/x86-guest-index.ts';
import { computeService } from '../../src/runtime/services/compute-service.ts';
import type { ComputeSnapshot, ComputeTaskResult } from '../../src/runtime/services/compute-types.ts';
import { meshCloud, stopNetworks, waitFor } from './support/core-network.ts';

const hello = new Uint8Array(readFileSync('public/examples/hello.wasm'));
const GUEST_DIR = 'public/guests/multiboot';
const guest = x86GuestIndexSchema.parse(JSON.parse(readFileSync(join(GUEST_DIR, 'index.json'), 'utf8')));
const guestFiles = guest.files.map((f) => new Uint8Array(readFileSync(join(GUEST_DIR, f.sha256))));

const WASI: SandboxRunner = { run: runWasiTaskInNode };
const X86: SandboxRunner = { run: runWasiTaskInNode, runX86: runX86TaskInNode, kinds: () => ['wasi', 'x86'] };

afterEach(stopNetworks);

function cloud(runners: readonly (SandboxRunner | null)[]): Promise<NodeCore[]> {
  return meshCloud(runners.map((runner) => ({ tickMs: 100, services: [computeService()], runner: () => runner })));
}

const compute = (core: NodeCore): ComputeSnapshot => core.snapshot().services.compute as ComputeSnapshot;

const until = waitFor;

function wasiJob(count: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'hello', tasks: Array.from({ length: count }, (_, i) => ({ args: [`n${i}`], env: {}, stdin: '' })), timeLimitMs: 10_000, ...extra };
}

describe('x86 jobs through the compute service', () => {
  it('runs a multiboot guest job on the x86 host only, its serial output as stdout', async () => {
    const [submitter, wasiOnly, x86Host] = await cloud([null, WASI, X86]);
    await until(() => compute(x86Host!).kinds.includes('x86'), 5000, 'x86 host advertises x86');
    expect(compute(wasiOnly!).kinds).toEqual(['wasi']);
    const spec = {
      name: 'multiboot echo',
      image: { kind: 'x86', domain: guest.domain },
      tasks: [['echo', 'hi', 'there'], ['primes', '100'], ['exit', '3']].map((args) => ({ args, env: {}, stdin: '' })),
      timeLimitMs: 20_000,
    };
    await expect(submitter!.command('compute', 'submit', { spec, files: guestFiles.slice(0, 1) })).rejects.toMatchObject({ code: 'E_IMAGE_MISSING' });
    const { jobId } = (await submitter!.command('compute', 'submit', { spec, files: guestFiles })) as { jobId: string };
    await until(() => ['done', 'failed'].includes(compute(submitter!).jobs[0]?.state ?? ''), 90_000, 'x86 job settled');
    const results = (await submitter!.command('compute', 'results', { jobId })) as ComputeTaskResult[];
    expect(results.map((r) => [r.status, r.exitCode, r.stdout])).toEqual([
      ['accepted', 0, 'hi there\n'],
      ['accepted', 0, 'primes up to 100: 25\n'],
      ['accepted', 3, ''],
    ]);
    for (const r of results) expect(r.agreeing).toEqual([x86Host!.peerId]);
    expect(compute(wasiOnly!).stats.ran).toBe(0);
    // Only the snapshot is needed to run from it; it came from the submitter by hash.
    expect(compute(x86Host!).stats.imagesFetched).toBe(1);
    // The submitter's credit notices travel after it settles the job.
    await until(() => compute(x86Host!).credit.tasksAccepted === 3, 10_000, 'x86 host credited for 3 tasks');
  }, 120_000);
});

describe('credit for accepted work', () => {
  it('credits hosts whose results the quorum accepted, and not the liar', async () => {
    const [submitter, liar, ...honest] = await cloud([null, WASI, WASI, WASI, WASI]);
    await liar!.command('compute', 'testHooks', { lie: true });
    // Two honest hosts start paused, so the first two copies of every task go to the liar and one honest host,
    // and every task needs a third copy from a host that resumes (fast honest hosts cannot crowd the liar out).
    const pause = (paused: boolean) => Promise.all(honest.slice(1).map((h) => h.command('compute', 'setLimits', { maxConcurrent: 2, cpuCapPercent: 100, paused })));
    await pause(true);
    await submitter!.command('compute', 'submit', { spec: wasiJob(6, { redundancy: { n: 3, k: 2 } }), image: hello });
    await until(() => compute(liar!).stats.ran >= 6, 30_000, 'the liar ran a copy of every task');
    expect(compute(submitter!).jobs[0]?.state).not.toBe('done');
    await pause(false);
    await until(() => compute(submitter!).jobs[0]?.state === 'done', 50_000, 'quorum job done');
    await until(() => honest.reduce((n, h) => n + compute(h).credit.tasksAccepted, 0) >= 12, 5000, 'credit notices arrived');
    expect(compute(liar!).stats.ran).toBeGreaterThan(0);
    expect(compute(liar!).credit).toMatchObject({ creditSeconds: 0, tasksAccepted: 0 });
    const accepted = honest.reduce((n, h) => n + compute(h).credit.tasksAccepted, 0);
    expect(accepted).toBeGreaterThanOrEqual(12);
    for (const h of honest) {
      const c = compute(h).credit;
      expect(c.tasksAccepted).toBeLessThanOrEqual(compute(h).stats.ran);
      if (c.tasksAccepted > 0) expect(c.creditSeconds).toBeGreaterThan(0);
    }
    expect(compute(submitter!).credit.noticesSent).toBe(accepted);
    expect(compute(submitter!).credit.tasksAccepted).toBe(0);
  }, 60_000);

  it('keeps credit per partner once the widget names one', async () => {
    const [submitter, host] = await cloud([null, WASI]);
    await host!.command('compute', 'setPartner', { origin: 'https://partner.example' });
    await submitter!.command('compute', 'submit', { spec: wasiJob(2), image: hello });
    await until(() => compute(host!).credit.tasksAccepted === 2, 30_000, 'credit for 2 tasks');
    const c = compute(host!).credit;
    expect(c.partner).toBe('https://partner.example');
    expect(c.partners.map((p) => [p.origin, p.seconds])).toEqual([['https://partner.example', c.creditSeconds]]);
    // Cloud totals come from averaging epochs (tens of seconds); the values contributed are checked in compute-credit.test.ts.
  }, 40_000);
});

describe('runner refusal', () => {
  it('a host whose runner is not taking tasks hands them back and they run elsewhere', async () => {
    let asked = 0;
    const refusing: SandboxRunner = {
      run: () => Promise.reject(new Error('must not run')),
      available: () => { asked++; return false; },
    };
    const [submitter, busy, free] = await cloud([null, refusing, WASI]);
    await until(() => asked > 0, 5000, 'the busy runner was asked');
    const { jobId } = (await submitter!.command('compute', 'submit', { spec: wasiJob(4), image: hello })) as { jobId: string };
    await until(() => compute(submitter!).jobs[0]?.state === 'done', 30_000, 'job done');
    const results = (await submitter!.command('compute', 'results', { jobId })) as ComputeTaskResult[];
    for (const r of results) expect(r.agreeing).toEqual([free!.peerId]);
    expect(compute(busy!).canHost).toBe(false);
    expect(compute(busy!).stats.ran).toBe(0);
  }, 40_000);
});
