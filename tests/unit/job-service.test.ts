import { describe, expect, it } from 'vitest';
import { JobService, type SandboxRunner } from '../../src/runtime/job-service.ts';
import { createRng } from '../../src/core/rng.ts';
import { decodeFrame } from '../../src/wire/frame.ts';
import { decodeEnvelope } from '../../src/wire/envelope.ts';
import { decodeJobMessage } from '../../src/wire/job.ts';
import type { JobRequest } from '../../src/runtime/api.ts';

const SUBMITTER = 'a'.repeat(40);
const HOST_1 = 'b'.repeat(40);
const HOST_2 = 'c'.repeat(40);

const request: JobRequest = {
  name: 'hello.wasm', wasm: new Uint8Array([0, 97, 115, 109]), args: ['x'], env: {}, stdin: '', timeLimitMs: 1000, memoryLimitMiB: 16,
};

/** A small in-memory network of job services; frames are decoded exactly as the node decodes them. */
function network(runners: Record<string, SandboxRunner | null>) {
  let now = 0;
  const linked = new Map<string, Set<string>>();
  const services = new Map<string, JobService>();
  const ids = [SUBMITTER, ...Object.keys(runners)];
  const deliver = (from: string, to: string, bytes: Uint8Array): void => {
    const frame = decodeFrame(bytes);
    if (!frame.ok) throw new Error(frame.reason);
    const env = decodeEnvelope(frame.value.header);
    if (!env.ok) throw new Error(env.reason);
    const msg = decodeJobMessage(env.value.m);
    if (!msg.ok) throw new Error(`${msg.code}: ${msg.reason}`);
    services.get(to)!.onMessage(from, msg.value, frame.value.body);
  };
  for (const id of ids) {
    linked.set(id, new Set(ids.filter((x) => x !== id)));
    services.set(id, new JobService({
      self: id, rng: createRng(7), now: () => now,
      linkedPeers: () => [...linked.get(id)!],
      sendFrame: (to, frame) => {
        if (!linked.get(id)!.has(to)) return false;
        queueMicrotask(() => deliver(id, to, frame));
        return true;
      },
      runner: () => runners[id] ?? null,
      log: () => {},
      changed: () => {},
      maxConcurrentTasks: 1,
    }));
  }
  const settle = () => new Promise((r) => setTimeout(r, 10));
  return { services, linked, settle, advance: (ms: number) => (now += ms) };
}

const echoRunner = (tag: string): SandboxRunner => ({
  run: async (spec) => ({ ok: true, exitCode: 0, stdout: `${tag}:${spec.args.join(' ')}`, stderr: '', durationMs: 1 }),
});

describe('JobService', () => {
  it('runs a job on another peer and records where it ran and its output', async () => {
    const net = network({ [HOST_1]: echoRunner('h1') });
    const submitter = net.services.get(SUBMITTER)!;
    const id = submitter.submit(request);
    await net.settle();
    const job = submitter.jobs().find((j) => j.id === id)!;
    expect(job.state).toBe('done');
    expect(job.host).toBe(HOST_1);
    expect(job.stdout).toBe('h1:x');
    expect(job.exitCode).toBe(0);
  });

  it('fails clearly when no other peer is connected', () => {
    const net = network({});
    const submitter = net.services.get(SUBMITTER)!;
    submitter.submit(request);
    expect(submitter.jobs()[0]!.error).toMatch(/^E_NO_PEERS/);
  });

  it('retries on another peer when the host refuses (no sandbox)', async () => {
    const net = network({ [HOST_1]: null, [HOST_2]: echoRunner('h2') });
    const submitter = net.services.get(SUBMITTER)!;
    // Only HOST_1 is linked when the job is first dispatched, so it is tried (and refuses) first.
    net.linked.get(SUBMITTER)!.delete(HOST_2);
    submitter.submit(request);
    net.linked.get(SUBMITTER)!.add(HOST_2);
    await net.settle();
    const job = submitter.jobs()[0]!;
    expect(job.state).toBe('done');
    expect(job.host).toBe(HOST_2);
    expect(job.attempts).toBe(2);
  });

  it('a host whose runner is not available refuses with E_HOST_BUSY and the job runs elsewhere', async () => {
    let ran = 0;
    const unavailable: SandboxRunner = { run: async () => { ran++; throw new Error('must not run'); }, available: async () => false };
    const net = network({ [HOST_1]: unavailable, [HOST_2]: echoRunner('h2') });
    const submitter = net.services.get(SUBMITTER)!;
    net.linked.get(SUBMITTER)!.delete(HOST_2);
    submitter.submit(request);
    net.linked.get(SUBMITTER)!.add(HOST_2);
    await net.settle();
    const job = submitter.jobs()[0]!;
    expect(job.state).toBe('done');
    expect(job.host).toBe(HOST_2);
    expect(job.attempts).toBe(2);
    expect(ran).toBe(0);
  });

  it('retries elsewhere when the host disconnects mid-run', async () => {
    const never: SandboxRunner = { run: () => new Promise(() => {}) };
    const net = network({ [HOST_1]: never, [HOST_2]: never });
    const submitter = net.services.get(SUBMITTER)!;
    submitter.submit(request);
    await net.settle();
    const first = submitter.jobs()[0]!.host!;
    net.linked.get(SUBMITTER)!.delete(first);
    submitter.peerDown(first);
    const second = submitter.jobs()[0]!;
    expect(second.state).toBe('running');
    expect(second.host).not.toBe(first);
    expect(second.attempts).toBe(2);
  });

  it('retries when a host stays silent past the time limit plus grace', async () => {
    const never: SandboxRunner = { run: () => new Promise(() => {}) };
    const net = network({ [HOST_1]: never, [HOST_2]: echoRunner('h2') });
    const submitter = net.services.get(SUBMITTER)!;
    submitter.submit(request);
    await net.settle();
    if (submitter.jobs()[0]!.host === HOST_1) {
      net.advance(request.timeLimitMs + 60_000);
      submitter.tick();
      await net.settle();
    }
    expect(submitter.jobs()[0]!.state).toBe('done');
    expect(submitter.jobs()[0]!.host).toBe(HOST_2);
  });

  it('refuses work beyond its concurrency limit with E_HOST_BUSY', async () => {
    const never: SandboxRunner = { run: () => new Promise(() => {}) };
    const net = network({ [HOST_1]: never });
    const submitter = net.services.get(SUBMITTER)!;
    submitter.submit(request);
    submitter.submit(request);
    await net.settle();
    const states = submitter.jobs().map((j) => j.error ?? j.state);
    expect(states).toContain('running');
    expect(states.some((s) => s.includes('E_HOST_BUSY'))).toBe(true);
  });
});
