/**
 * The batch forms of scheduler wire v2, as a pure step between the scheduler's decisions and the wire: the
 * leases that answer one pull and the results of one batch run in one slot leave as ONE message to their peer
 * (`leases`, `results`) instead of one frame per task copy — each frame crosses two SharedWorker ports, two edge
 * tabs and a data channel, so per-copy frames were most of a tiny task's cost. A received batch is opened back
 * into the single messages the submitter and host sides already handle, in order.
 *
 * Packing keeps every peer's order: consecutive leases (results) of one job to one peer join a group, and any
 * other message to that peer closes it. A group stays within MAX_BATCH_ENTRIES, MAX_BATCH_OUTPUT_CHARS and a
 * size budget that keeps its frame header well under the frame limit; a copy too big for the budget travels
 * alone, as it did in version 1. A group of one stays a plain `lease` / `result`.
 */
import type { PeerId } from '../../core/ids.ts';
import {
  MAX_BATCH_ENTRIES, MAX_BATCH_OUTPUT_CHARS, type LeaseMessage, type LeasesMessage, type ResultMessage, type ResultsMessage,
} from '../../wire/scheduler.ts';
import type { Outgoing } from './types.ts';

/** Characters of JSON a batch collects at most (its frame header stays far below wire/frame.ts's 64 KiB). */
export const BATCH_JSON_BUDGET = 16_000;

interface Group {
  readonly to: PeerId;
  readonly items: LeaseMessage[] | ResultMessage[];
  chars: number;
  output: number;
}

function entryChars(m: LeaseMessage | ResultMessage): number {
  if (m.t === 'lease') return JSON.stringify(m.spec).length + 40;
  return m.stdout.length + m.stderr.length + m.digest.length + (m.code?.length ?? 0) + 100;
}

function outputChars(m: LeaseMessage | ResultMessage): number {
  return m.t === 'result' ? m.stdout.length + m.stderr.length : 0;
}

/** Whether `m` may join `g`: same kind, same job, the same terms for leases, and room left. */
function fits(g: Group, m: LeaseMessage | ResultMessage): boolean {
  const first = g.items[0]!;
  if (first.t !== m.t || first.jobId !== m.jobId || g.items.length >= MAX_BATCH_ENTRIES) return false;
  if (g.chars + entryChars(m) > BATCH_JSON_BUDGET || g.output + outputChars(m) > MAX_BATCH_OUTPUT_CHARS) return false;
  if (first.t === 'lease' && m.t === 'lease') {
    return first.image === m.image && first.timeLimitMs === m.timeLimitMs && first.outputLimits === m.outputLimits;
  }
  return true;
}

function finish(g: Group): Outgoing {
  const items = g.items;
  if (items.length === 1) return { to: g.to, msg: items[0]! };
  const first = items[0]!;
  if (first.t === 'lease') {
    const msg: LeasesMessage = {
      v: first.v, t: 'leases', jobId: first.jobId, image: first.image, timeLimitMs: first.timeLimitMs, outputLimits: first.outputLimits,
      leases: (items as LeaseMessage[]).map((l) => ({ lease: l.lease, task: l.task, spec: l.spec })),
    };
    return { to: g.to, msg };
  }
  const msg: ResultsMessage = {
    v: first.v, t: 'results', jobId: first.jobId,
    results: (items as ResultMessage[]).map((r) => ({
      lease: r.lease, digest: r.digest, ok: r.ok, exitCode: r.exitCode, code: r.code, stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs,
    })),
  };
  return { to: g.to, msg };
}

/** The same messages, with runs of leases (results) of one job to one peer joined into batch messages. */
export function packOutgoing(out: readonly Outgoing[]): Outgoing[] {
  if (out.length < 2) return [...out];
  const slots: (Outgoing | Group)[] = [];
  const open = new Map<PeerId, Group>();
  for (const o of out) {
    const m = o.msg;
    if (m.t !== 'lease' && m.t !== 'result') {
      open.delete(o.to);
      slots.push(o);
      continue;
    }
    const g = open.get(o.to);
    if (g && fits(g, m)) {
      (g.items as (LeaseMessage | ResultMessage)[]).push(m);
      g.chars += entryChars(m);
      g.output += outputChars(m);
      continue;
    }
    const fresh: Group = { to: o.to, items: [m] as LeaseMessage[] | ResultMessage[], chars: entryChars(m), output: outputChars(m) };
    open.set(o.to, fresh);
    slots.push(fresh);
  }
  return slots.map((s) => ('items' in s ? finish(s) : s));
}

/** A `leases` message as the single leases it carries, in order. */
export function unpackLeases(msg: LeasesMessage): LeaseMessage[] {
  return msg.leases.map((l) => ({
    v: msg.v, t: 'lease', jobId: msg.jobId, lease: l.lease, task: l.task, spec: l.spec, image: msg.image,
    timeLimitMs: msg.timeLimitMs, outputLimits: msg.outputLimits,
  }));
}

/** A `results` message as the single results it carries, in order. */
export function unpackResults(msg: ResultsMessage): ResultMessage[] {
  return msg.results.map((r) => ({ v: msg.v, t: 'result', jobId: msg.jobId, ...r }));
}
