/**
 * Scheduler wire v2's batch forms (wire-batches.ts): leases answering one pull and results of one batch leave as
 * one message per peer and job, within the entry and output bounds, every peer's order kept, and what is packed
 * decodes at the far side into exactly the single messages that went in. End to end, a job of tiny copies runs
 * with one results message per batch and one leases message per pull, each task accepted exactly once.
 */
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/core/protocol.ts';
import { createRng, type Rng } from '../../src/core/rng.ts';
import { viewOf } from '../../src/protocols/peer-sampling/view.ts';
import { Scheduler } from '../../src/protocols/scheduler/scheduler.ts';
import type { Outgoing } from '../../src/protocols/scheduler/types.ts';
import { packOutgoing, unpackLeases, unpackResults } from '../../src/protocols/scheduler/wire-batches.ts';
import { encodeFrame } from '../../src/wire/frame.ts';
import {
  decodeSchedulerMessage, MAX_BATCH_ENTRIES, MAX_RESULT_OUTPUT_CHARS, SCHEDULER_WIRE_VERSION as v,
  type LeaseMessage, type ResultMessage, type SchedulerMessage,
} from '../../src/wire/scheduler.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const JOB = '0123456789abcdef';
const OTHER_JOB = 'fedcba9876543210';
const IMAGE = { kind: 'wasi', sha256: 'cd'.repeat(32), size: 100 } as const;
const LIMITS = { stdoutBytes: 1024, stderrBytes: 1024 };

const lease = (n: number, jobId = JOB): LeaseMessage => ({
  v, t: 'lease', jobId, lease: n, task: n, spec: { args: [String(n)], env: {}, stdin: '' }, image: IMAGE, timeLimitMs: 1000, outputLimits: LIMITS,
});
const result = (n: number, stdout = `out ${n}`, jobId = JOB): ResultMessage => ({
  v, t: 'result', jobId, lease: n, digest: `sha256:${n}`, ok: true, exitCode: 0, code: null, stdout, stderr: '', durationMs: 3,
});
const to = (peer: number, msg: SchedulerMessage): Outgoing => ({ to: id(peer), msg });

/** What the far side sees: each packed message through JSON and the decoder, opened into single messages. */
function received(out: readonly Outgoing[]): Outgoing[] {
  return out.flatMap((o) => {
    encodeFrame({ p: 'scheduler', v, m: o.msg }); // throws if a header outgrows the frame limit
    const decoded = decodeSchedulerMessage(JSON.parse(JSON.stringify(o.msg)));
    if (!decoded.ok) throw new Error(`${decoded.code}: ${decoded.reason}`);
    const m = decoded.value;
    if (m.t === 'leases') return unpackLeases(m).map((l) => ({ to: o.to, msg: l }));
    if (m.t === 'results') return unpackResults(m).map((r) => ({ to: o.to, msg: r }));
    return [{ to: o.to, msg: m }];
  });
}

const byPeer = (out: readonly Outgoing[], peer: number): SchedulerMessage[] => out.filter((o) => o.to === id(peer)).map((o) => o.msg);

describe('packing leases and results', () => {
  it('joins the leases of one pull into one message and keeps every peer’s order', () => {
    const noWork: SchedulerMessage = { v, t: 'no-work', jobId: JOB, final: false };
    const out = [to(1, lease(0)), to(2, lease(5)), to(1, lease(1)), to(1, lease(2)), to(1, noWork), to(1, lease(3)), to(2, lease(6))];
    const packed = packOutgoing(out);
    expect(packed.map((o) => [o.to, o.msg.t])).toEqual([
      [id(1), 'leases'], [id(2), 'leases'], [id(1), 'no-work'], [id(1), 'lease'],
    ]);
    expect(packed[0]!.msg).toMatchObject({ t: 'leases', leases: [{ lease: 0 }, { lease: 1 }, { lease: 2 }] });
    const back = received(packed);
    for (const peer of [1, 2]) expect(byPeer(back, peer)).toEqual(byPeer(out, peer));
  });

  it('never joins different jobs, nor leases with results', () => {
    const out = [to(1, lease(0)), to(1, lease(1, OTHER_JOB)), to(1, result(7)), to(1, result(8)), to(1, result(9, 'x', OTHER_JOB))];
    const packed = packOutgoing(out);
    expect(packed.map((o) => o.msg.t)).toEqual(['lease', 'lease', 'results', 'result']);
    expect(byPeer(received(packed), 1)).toEqual(byPeer(out, 1));
  });

  it('splits long runs at MAX_BATCH_ENTRIES and large output by its bound; every part fits a frame', () => {
    const many = Array.from({ length: MAX_BATCH_ENTRIES * 2 + 3 }, (_, i) => to(1, result(i)));
    const packed = packOutgoing(many);
    expect(packed).toHaveLength(3);
    expect(byPeer(received(packed), 1)).toEqual(byPeer(many, 1));

    const big = Array.from({ length: 5 }, (_, i) => to(1, result(i, 'y'.repeat(MAX_RESULT_OUTPUT_CHARS))));
    const bigPacked = packOutgoing(big);
    expect(bigPacked).toHaveLength(5); // each full-size result travels alone, as in version 1
    expect(byPeer(received(bigPacked), 1)).toEqual(byPeer(big, 1));

    const medium = Array.from({ length: 12 }, (_, i) => to(1, result(i, 'z'.repeat(3_000))));
    const mediumPacked = packOutgoing(medium);
    expect(mediumPacked.length).toBeGreaterThan(1);
    expect(mediumPacked.length).toBeLessThan(12);
    expect(byPeer(received(mediumPacked), 1)).toEqual(byPeer(medium, 1));
  });
});

describe('a job of tiny copies over wire v2', () => {
  it('takes one results message per batch and one leases message per pull; each task accepted once', () => {
    const rngs: Rng[] = [createRng(1), createRng(2)];
    const peers = [id(0), id(1)];
    const view = (me: string) => viewOf(() => peers.filter((p) => p !== me));
    const sub = new Scheduler({ view: view(id(0)) });
    const host = new Scheduler({
      view: view(id(1)), capabilities: { cores: 4, ramMB: 4096, gpuMemoryMB: 0, diskMB: 10_000, kinds: ['wasi'] },
      limits: { maxConcurrentTasks: 2, cpuCapPercent: 100, paused: false },
    });
    const nodes = [sub, host];
    let now = 0;
    const ctx = (n: number) => ({ self: peers[n]!, now, rng: rngs[n]! });
    const sent: { from: number; msg: SchedulerMessage }[] = [];
    const queue: { from: number; to: number; msg: SchedulerMessage }[] = [];
    const push = (from: number, effects: Effect<SchedulerMessage>[]) => {
      for (const e of effects) if (e.kind === 'send') queue.push({ from, to: peers.indexOf(e.to), msg: e.msg });
    };
    const drain = () => {
      while (queue.length > 0) {
        const m = queue.shift()!;
        sent.push(m);
        const decoded = decodeSchedulerMessage(JSON.parse(JSON.stringify(m.msg)));
        expect(decoded.ok).toBe(true);
        if (decoded.ok) push(m.to, nodes[m.to]!.onMessage(ctx(m.to), peers[m.from]!, decoded.value));
      }
    };
    const submitted = sub.submit(ctx(0), {
      image: IMAGE, timeLimitMs: 1000,
      tasks: Array.from({ length: 300 }, (_, i) => ({ args: [String(i)], env: {}, stdin: '' })),
    });
    if (!submitted.ok) throw new Error(submitted.reason);
    push(0, submitted.effects);
    drain();
    let batches = 0;
    const accepted: number[] = [];
    for (let round = 0; round < 1000 && sub.jobProgress(submitted.jobId)!.status === 'running'; round++) {
      now += 20;
      for (const batch of host.takeRunBatches()) {
        batches++;
        now += 5 * batch.length;
        push(1, host.completeRuns(ctx(1), batch.map((r) => ({
          key: r.key, result: { digest: `d${r.task}`, ok: true, exitCode: 0, code: null, stdout: '', stderr: '', durationMs: 5 },
        }))));
      }
      push(1, host.onTick(ctx(1)));
      drain();
      accepted.push(...sub.takeOutcomes().filter((o) => o.status === 'accepted').map((o) => o.task));
    }
    expect(sub.jobProgress(submitted.jobId)).toMatchObject({ status: 'completed', accepted: 300 });
    expect(accepted.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const count = (from: number, ...types: string[]) => sent.filter((m) => m.from === from && types.includes(m.msg.t)).length;
    expect(count(1, 'result', 'results')).toBe(batches);
    expect(count(1, 'results')).toBeGreaterThan(batches / 2); // most batches hold several copies
    expect(count(0, 'lease', 'leases')).toBeLessThanOrEqual(count(1, 'pull'));
    // Frames per task: well under the three (lease, result, and a pull every copy or so) of version 1.
    expect(sent.length / 300).toBeLessThan(1);
  });
});
