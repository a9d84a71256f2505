/**
 * Jobs on an allocated slice, in real NodeCores running the cloud and compute services over the in-memory
 * network: a 2-node slice is allocated among 5 peers, a job naming it runs only on its members (the others
 * never lease, fetch or run anything); a member that leaves mid-run hands its tasks back to the ones that stay;
 * and a job naming a slice the cloud does not know fails with E_UNKNOWN_SLICE before it is published.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ComputeTaskResult } from '../../src/runtime/services/compute-types.ts';
import { stopNetworks, waitFor } from './support/core-network.ts';
import { allocateFastest, cloudOf, compute, sliceComputeCloud as cloud } from './support/slice-compute-cloud.ts';
import { parseCliArgs } from '../../src/node/cli-args.ts';
import { runCliCommand } from '../../src/node/cli-run.ts';
import { rejection } from './support/test-data.ts';

const hello = new Uint8Array(readFileSync('public/examples/hello.wasm'));

afterEach(stopNetworks);


function job(tasks: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const list = Array.from({ length: tasks }, (_, i) => ({ args: ['task', String(i)], env: {}, stdin: '' }));
  return { name: 'on-slice', tasks: list, timeLimitMs: 10_000, ...extra };
}

describe('compute jobs on an allocated slice', () => {
  it('runs a job on a 2-node slice among 5 only on its members; others never lease', async () => {
    let known: { members: string[] } | null = null;
    const cores = await cloud(5);
    const owner = cores[0]!;
    const slice = await allocateFastest(cores, 'work', 2);
    const members = [...slice.members].sort();
    expect(members).toEqual([cores[3]!.peerId, cores[4]!.peerId].sort());
    const memberCores = cores.filter((c) => members.includes(c.peerId));
    const outsiders = cores.slice(1).filter((c) => !members.includes(c.peerId));
    // Members learn their membership from the cloud service (the compute service reads it each tick).
    await waitFor(() => memberCores.every((c) => cloudOf(c).membership?.slice === 'work'), 10_000, 'members know their slice');

    const { jobId } = (await owner.command('compute', 'submit', { spec: job(10, { slice: 'work' }), image: hello })) as { jobId: string };
    await waitFor(() => compute(owner).jobs[0]?.state === 'done', 40_000, 'slice job done');
    expect(compute(owner).jobs[0]!.slice).toBe('work');
    const results = (await owner.command('compute', 'results', { jobId })) as ComputeTaskResult[];
    expect(results).toHaveLength(10);
    for (const r of results) {
      expect(r.status).toBe('accepted');
      expect(r.stdout).toContain(`task ${r.task}`);
      for (const host of r.agreeing) expect(members).toContain(host);
    }
    expect(memberCores.reduce((n, c) => n + compute(c).stats.ran, 0)).toBe(10);
    for (const c of outsiders) {
      expect(compute(c).stats.ran).toBe(0);
      expect(compute(c).stats.imagesFetched).toBe(0);
      expect(compute(c).hosting).toEqual([]);
    }

    // A peer that neither owns nor belongs to the slice learns its members from the gossiped directory and may
    // submit on it too; again only members run the tasks.
    const stranger = outsiders[0]!;
    await waitFor(() => {
      void stranger.command('cloud', 'membership', { slice: 'work' }).then((m) => { known = m as { members: string[] }; }, () => undefined);
      return known !== null && [...known.members].sort().join() === members.join();
    }, 10_000, 'the stranger knows the slice members');
    const ranBefore = memberCores.reduce((n, c) => n + compute(c).stats.ran, 0);
    const second = (await stranger.command('compute', 'submit', { spec: job(4, { slice: 'work' }), image: hello })) as { jobId: string };
    await waitFor(() => compute(stranger).jobs[0]?.state === 'done', 40_000, 'stranger slice job done');
    const strangerResults = (await stranger.command('compute', 'results', { jobId: second.jobId })) as ComputeTaskResult[];
    for (const r of strangerResults) for (const host of r.agreeing) expect(members).toContain(host);
    expect(memberCores.reduce((n, c) => n + compute(c).stats.ran, 0)).toBe(ranBefore + 4);
    for (const c of outsiders) expect(compute(c).stats.ran).toBe(0);

    // The same cloud still runs jobs without a slice anywhere (outsiders included).
    await owner.command('compute', 'submit', { spec: job(12), image: hello });
    await waitFor(() => compute(owner).jobs[0]?.state === 'done', 40_000, 'unsliced job done');
    expect(outsiders.some((c) => compute(c).stats.ran > 0)).toBe(true);
  }, 90_000);

  it('re-runs the tasks of a member that leaves the slice on the members that remain', async () => {
    const cores = await cloud(5);
    const owner = cores[0]!;
    const slice = await allocateFastest(cores, 'work', 3);
    const memberCores = cores.filter((c) => slice.members.includes(c.peerId));
    await waitFor(() => memberCores.every((c) => cloudOf(c).membership?.slice === 'work'), 10_000, 'members know their slice');
    for (const c of memberCores) await c.command('compute', 'setLimits', { maxConcurrent: 1, cpuCapPercent: 100, paused: false });

    // Tasks long enough (a second or more) that the leaver is still running one when it leaves.
    const tasks = Array.from({ length: 6 }, (_, i) => ({ args: ['primes', String(1_500_000 + i)], env: {}, stdin: '' }));
    const primes = new Uint8Array(readFileSync('public/examples/primes.wasm'));
    const { jobId } = (await owner.command('compute', 'submit', { spec: { name: 'primes', tasks, timeLimitMs: 30_000, slice: 'work' }, image: primes })) as { jobId: string };
    // As soon as some member runs a task, it leaves the slice.
    await waitFor(() => memberCores.some((c) => compute(c).hosting.some((h) => h.phase === 'running')), 20_000, 'a member running');
    const leaver = memberCores.find((c) => compute(c).hosting.some((h) => h.phase === 'running'))!;
    const inFlight = compute(leaver).hosting.map((h) => h.task);
    await owner.command('cloud', 'terminateInstances', { slice: 'work', peers: [leaver.peerId] });
    const ranWhenLeaving = compute(leaver).stats.ran;
    await waitFor(() => compute(owner).jobs[0]?.state === 'done', 60_000, 'job done after a member left');
    const results = (await owner.command('compute', 'results', { jobId })) as ComputeTaskResult[];
    expect(results.every((r) => r.status === 'accepted' && r.exitCode === 0)).toBe(true);
    // The copy the leaver was running was revoked (its sandbox stopped) and re-run by a member that stayed.
    expect(inFlight.length).toBeGreaterThan(0);
    for (const task of inFlight) expect(results[task]!.agreeing).not.toContain(leaver.peerId);
    expect(compute(leaver).hosting).toEqual([]);
    expect(compute(leaver).stats.ran).toBe(ranWhenLeaving);
    const stayed = memberCores.filter((c) => c !== leaver);
    expect(stayed.reduce((n, c) => n + compute(c).stats.ran, 0)).toBe(6 - ranWhenLeaving);
    const others = cores.slice(1).filter((c) => !slice.members.includes(c.peerId));
    for (const c of others) expect(compute(c).stats.ran).toBe(0);
  }, 120_000);

  it('the CLI submit --slice, from a peer outside the slice, waits to learn it and runs only on members', async () => {
    const cores = await cloud(4);
    const owner = cores[0]!;
    const cli = cores[1]!; // cpuScore 101: never among the 2 best
    const slice = await allocateFastest(cores, 'cli-pair', 2);
    const parsed = parseCliArgs(['submit', 'public/examples/hello.wasm', '--tasks', '3', '--args', 'cli {i}', '--slice', 'cli-pair', '--wait']);
    if (!parsed.ok) throw new Error(parsed.reason);
    const io = { print: () => undefined, signal: new AbortController().signal };
    const out = (await runCliCommand(cli, parsed.value.command, io)) as { results: ComputeTaskResult[] };
    expect(out.results.map((r) => r.stdout.includes(`cli ${r.task}`))).toEqual([true, true, true]);
    for (const r of out.results) for (const host of r.agreeing) expect(slice.members).toContain(host);
    expect(compute(cli).jobs[0]!.slice).toBe('cli-pair');
    expect(compute(owner).stats.ran + compute(cli).stats.ran).toBe(0);
  }, 60_000);

  it('refuses a job on a slice the cloud does not know with E_UNKNOWN_SLICE, and a bad slice name with E_BAD_JOB', async () => {
    const [a] = await cloud(2);
    expect(await rejection(a!.command('compute', 'submit', { spec: job(1, { slice: 'nowhere' }), image: hello }))).toMatch(/^E_UNKNOWN_SLICE/);
    expect(compute(a!).jobs).toEqual([]);
    expect(await rejection(a!.command('compute', 'submit', { spec: job(1, { slice: 'bad name!' }), image: hello }))).toMatch(/^E_BAD_JOB: slice/);
  }, 30_000);

  it('answers the cloud membership command: null outside a slice, the slice and members inside', async () => {
    const cores = await cloud(3);
    const owner = cores[0]!;
    expect(await owner.command('cloud', 'membership', {})).toBeNull();
    const slice = await allocateFastest(cores, 'one', 1);
    const member = cores.find((c) => c.peerId === slice.members[0])!;
    await waitFor(() => cloudOf(member).membership !== null, 10_000, 'member knows');
    expect(await member.command('cloud', 'membership', {})).toEqual({ slice: 'one', owner: owner.peerId, members: [member.peerId] });
    expect(await owner.command('cloud', 'membership', { slice: 'one' })).toEqual({ slice: 'one', owner: owner.peerId, members: [member.peerId] });
    // The third peer knows the slice only through the directory: no owner, the members it has heard of.
    const third = cores.find((c) => c !== owner && c !== member)!;
    await waitFor(() => cloudOf(third).knownPeers === 2, 10_000, 'third knows everyone');
    let answer: unknown = null;
    await waitFor(() => {
      void third.command('cloud', 'membership', { slice: 'one' }).then((m) => { answer = m; }, () => undefined);
      return answer !== null;
    }, 10_000, 'third learns the slice from the directory');
    expect(answer).toEqual({ slice: 'one', owner: null, members: [member.peerId] });
    expect(await rejection(third.command('cloud', 'membership', { slice: 'two' }))).toMatch(/^E_UNKNOWN_SLICE/);
    expect(await rejection(third.command('cloud', 'membership', { slice: 'bad name' }))).toMatch(/^E_BAD_ARGS/);
  }, 30_000);
});
