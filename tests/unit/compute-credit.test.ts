/**
 * Credit for accepted work (issue #6), pure parts: the host's ledger credits a task only on a notice from the
 * submitter it ran that task for, once, bounded by the task's time limit, and per partner; its persisted state
 * is validated on restore; credit notices are validated at the wire boundary with named codes; a submitter's
 * notices for tasks accepted close together leave as one frame per host and job.
 */
import { describe, expect, it, vi } from 'vitest';
import { CREDIT_VALUE, CreditLedger, partnerValueName } from '../../src/runtime/services/compute-credit.ts';
import {
  CREDIT_PROTOCOL, CREDIT_WIRE_VERSION, decodeCreditNotices, encodeCreditNotices, MAX_CREDIT_TASKS, type CreditNotice,
} from '../../src/runtime/services/compute-credit-wire.ts';
import { CoalescedWriter } from '../../src/runtime/services/compute-credit-store.ts';
import { CreditDesk } from '../../src/runtime/services/compute-credit-desk.ts';
import type { CreditState } from '../../src/runtime/services/compute-credit.ts';
import { decodeFrame } from '../../src/wire/frame.ts';
import { decodeEnvelope } from '../../src/wire/envelope.ts';

const SUBMITTER = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);
const JOB = '0123456789abcdef';
const notice = (task: number, durationMs: number): CreditNotice => ({ v: CREDIT_WIRE_VERSION, t: 'credit', jobId: JOB, task, durationMs });
const message = (...tasks: [number, number][]) => ({ v: CREDIT_WIRE_VERSION, t: 'credit', jobId: JOB, tasks: tasks.map(([task, durationMs]) => ({ task, durationMs })) });

describe('credit ledger', () => {
  it('credits a reported task once, only from its submitter', () => {
    const ledger = new CreditLedger();
    expect(ledger.onNotice(SUBMITTER, notice(0, 1500))).toEqual({ ok: false, code: 'E_CREDIT_UNKNOWN_TASK' });
    ledger.reported(SUBMITTER, JOB, 0, 10_000);
    expect(ledger.onNotice(OTHER, notice(0, 1500))).toEqual({ ok: false, code: 'E_CREDIT_WRONG_SUBMITTER' });
    expect(ledger.onNotice(SUBMITTER, notice(0, 1500))).toEqual({ ok: true, creditedMs: 1500 });
    expect(ledger.onNotice(SUBMITTER, notice(0, 1500))).toEqual({ ok: false, code: 'E_CREDIT_UNKNOWN_TASK' });
    expect(ledger.creditSeconds).toBe(1.5);
    expect(ledger.accepted).toBe(1);
  });

  it('never credits more than the task time limit', () => {
    const ledger = new CreditLedger();
    ledger.reported(SUBMITTER, JOB, 3, 2000);
    expect(ledger.onNotice(SUBMITTER, notice(3, 600_000))).toEqual({ ok: true, creditedMs: 2000 });
  });

  it('counts credit for the partner it lends for and contributes it to averaging', () => {
    const ledger = new CreditLedger();
    ledger.reported(SUBMITTER, JOB, 0, 10_000);
    ledger.onNotice(SUBMITTER, notice(0, 1000));
    ledger.setPartner('https://partner.example');
    ledger.reported(SUBMITTER, JOB, 1, 10_000);
    ledger.onNotice(SUBMITTER, notice(1, 2500));
    expect(ledger.partners().get('https://partner.example')).toBe(2.5);
    const values = ledger.localValues();
    expect(values[CREDIT_VALUE]).toBe(3.5);
    const key = partnerValueName('https://partner.example');
    expect(key).toMatch(/^[a-z0-9][a-z0-9_.-]{0,31}$/);
    expect(values[key]).toBe(2.5);
    expect(partnerValueName('https://other.example')).not.toBe(key);
  });

  it('restores a saved state and refuses a forged one', () => {
    const a = new CreditLedger();
    a.setPartner('https://partner.example');
    a.reported(SUBMITTER, JOB, 0, 10_000);
    a.onNotice(SUBMITTER, notice(0, 4000));
    const b = new CreditLedger();
    expect(b.restore(JSON.parse(JSON.stringify(a.state())))).toBe(true);
    expect(b.creditSeconds).toBe(4);
    expect(b.accepted).toBe(1);
    expect(b.partner).toBe('https://partner.example');
    expect(new CreditLedger().restore({ ...a.state(), creditMs: -5 })).toBe(false);
    expect(new CreditLedger().restore('lots')).toBe(false);
  });

  it('forgets the oldest reported tasks beyond its bound', () => {
    const ledger = new CreditLedger();
    for (let i = 0; i < 5000; i++) ledger.reported(SUBMITTER, JOB, i, 1000);
    expect(ledger.onNotice(SUBMITTER, notice(0, 10)).ok).toBe(false);
    expect(ledger.onNotice(SUBMITTER, notice(4999, 10)).ok).toBe(true);
  });
});

describe('credit notices on the wire', () => {
  it('round-trips the tasks of one job through one frame and envelope', () => {
    const frame = decodeFrame(encodeCreditNotices(JOB, [{ task: 7, durationMs: 1234.6 }, { task: 9, durationMs: 3 }]));
    expect(frame.ok).toBe(true);
    if (!frame.ok) return;
    const env = decodeEnvelope(frame.value.header);
    expect(env.ok).toBe(true);
    if (!env.ok) return;
    expect(env.value.p).toBe(CREDIT_PROTOCOL);
    const decoded = decodeCreditNotices(env.value.v, env.value.m, frame.value.body);
    expect(decoded).toEqual({ ok: true, value: [notice(7, 1235), notice(9, 3)] });
  });

  it('rejects malformed notices with named codes', () => {
    const empty = new Uint8Array(0);
    const ok = message([0, 1]);
    expect(decodeCreditNotices(CREDIT_WIRE_VERSION, ok, empty).ok).toBe(true);
    expect(decodeCreditNotices(1, { v: 1, t: 'credit', jobId: JOB, task: 0, durationMs: 1 }, empty)).toMatchObject({ ok: false, code: 'E_CREDIT_VERSION' });
    expect(decodeCreditNotices(CREDIT_WIRE_VERSION, ok, new Uint8Array(3))).toMatchObject({ ok: false, code: 'E_CREDIT_BAD_BODY' });
    const bad = (m: unknown) => decodeCreditNotices(CREDIT_WIRE_VERSION, m, empty);
    expect(bad({ ...ok, jobId: 'x' })).toMatchObject({ ok: false, code: 'E_CREDIT_MALFORMED' });
    expect(bad(message([0, -1]))).toMatchObject({ ok: false, code: 'E_CREDIT_MALFORMED' });
    expect(bad(message([0, 1e12]))).toMatchObject({ ok: false, code: 'E_CREDIT_MALFORMED' });
    expect(bad({ ...ok, extra: 1 })).toMatchObject({ ok: false, code: 'E_CREDIT_MALFORMED' });
    expect(bad(message())).toMatchObject({ ok: false, code: 'E_CREDIT_MALFORMED' });
    expect(bad(message([3, 1], [3, 2]))).toMatchObject({ ok: false, code: 'E_CREDIT_MALFORMED' });
    const tooMany = Array.from({ length: MAX_CREDIT_TASKS + 1 }, (_, i): [number, number] => [i, 1]);
    expect(bad(message(...tooMany))).toMatchObject({ ok: false, code: 'E_CREDIT_MALFORMED' });
    expect(bad(null)).toMatchObject({ ok: false, code: 'E_CREDIT_MALFORMED' });
  });
});

describe('coalesced credit writes', () => {
  it('writes the newest state, one write at a time', async () => {
    const written: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const writer = new CoalescedWriter({
      load: async () => undefined,
      save: async (state: CreditState) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        written.push(state.creditMs);
        inFlight--;
      },
    }, () => undefined);
    const state = (creditMs: number): CreditState => ({ v: 1, creditMs, tasksAccepted: 0, byPartnerMs: {}, partner: null });
    for (let i = 1; i <= 5; i++) writer.write(state(i));
    await vi.waitFor(() => expect(written.at(-1)).toBe(5), { timeout: 5000 });
    expect(maxInFlight).toBe(1);
    expect(written.length).toBeLessThan(5);
  });

  it('with a minimum gap, a stream of states is written at most once per gap, the newest last', async () => {
    const startedAt: number[] = [];
    const written: number[] = [];
    const writer = new CoalescedWriter({
      load: async () => undefined,
      save: async (state: CreditState) => { startedAt.push(performance.now()); written.push(state.creditMs); },
    }, () => undefined, 40);
    const state = (creditMs: number): CreditState => ({ v: 1, creditMs, tasksAccepted: 0, byPartnerMs: {}, partner: null });
    const begun = performance.now();
    for (let i = 1; i <= 20; i++) {
      writer.write(state(i));
      await new Promise((r) => setTimeout(r, 5));
    }
    await vi.waitFor(() => expect(written.at(-1)).toBe(20), { timeout: 5000 });
    // At most one write per 40 ms gap over the time the stream took (a loaded machine stretches the 5 ms sleeps).
    expect(written.length).toBeLessThanOrEqual(Math.floor((performance.now() - begun) / 38) + 1);
    for (let i = 1; i < startedAt.length; i++) expect(startedAt[i]! - startedAt[i - 1]!).toBeGreaterThanOrEqual(38);
  });
});

describe('credit notices from a submitter', () => {
  it('tasks accepted in several result batches leave as one notice per host and job, within the gap', async () => {
    const frames: { to: string; tasks: number[] }[] = [];
    const desk = new CreditDesk({
      self: SUBMITTER,
      sendFrame: (to: string, frame: Uint8Array) => {
        const f = decodeFrame(frame);
        const env = f.ok ? decodeEnvelope(f.value.header) : null;
        const decoded = env?.ok ? decodeCreditNotices(env.value.v, env.value.m, new Uint8Array()) : null;
        frames.push({ to, tasks: decoded?.ok ? decoded.value.map((n) => n.task) : [] });
        return true;
      },
      connect: () => undefined, log: () => undefined, changed: () => undefined, averages: () => null, estimatedSize: () => null,
    } as unknown as ConstructorParameters<typeof CreditDesk>[0], null);
    const accepted = (task: number, host: string) => ({
      jobId: JOB, task, status: 'accepted' as const, digest: 'd', error: null, agreeing: [host], suspects: [],
      result: { ok: true, exitCode: 0, code: null, stdout: '', stderr: '', durationMs: 5, digest: 'd' },
    });
    desk.grant([accepted(0, OTHER), accepted(1, OTHER)]);
    desk.grant([accepted(2, OTHER)]);
    desk.grant([accepted(3, 'c'.repeat(40))]);
    expect(frames).toEqual([]);
    await new Promise((r) => setTimeout(r, 700));
    expect(frames).toEqual([{ to: OTHER, tasks: [0, 1, 2] }, { to: 'c'.repeat(40), tasks: [3] }]);
    expect(desk.view().noticesSent).toBe(4);
    // A full notice does not wait.
    desk.grant(Array.from({ length: MAX_CREDIT_TASKS }, (_, i) => accepted(10 + i, OTHER)));
    expect(frames).toHaveLength(3);
  });
});
