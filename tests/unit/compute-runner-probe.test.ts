/**
 * Whether a node hosts (compute-runner-probe.ts): the runner's kinds are asked once, whether it takes tasks at most
 * once per AVAILABLE_PROBE_MS however often the node ticks, a runner without `available` is not asked again, a
 * lender that pauses stops hosting at the next probe, and a runner that goes away stops hosting at once.
 */
import { describe, expect, it } from 'vitest';
import { AVAILABLE_PROBE_MS, RunnerProbe } from '../../src/runtime/services/compute-runner-probe.ts';
import type { GuestKind, SandboxRunner } from '../../src/runtime/job-service.ts';

const settle = () => new Promise((r) => setTimeout(r, 0));

function harness(initial: SandboxRunner | null) {
  let now = 0;
  let runner = initial;
  let hosting: readonly GuestKind[] | null = null;
  const changes: (readonly GuestKind[] | null)[] = [];
  const probe = new RunnerProbe({ runner: () => runner, now: () => now }, (kinds) => {
    if (JSON.stringify(kinds) === JSON.stringify(hosting)) return;
    hosting = kinds;
    changes.push(kinds);
  });
  return {
    tick: async (ms: number) => { now += ms; probe.update(hosting !== null); await settle(); },
    setRunner: (r: SandboxRunner | null) => { runner = r; },
    hosting: () => hosting,
    changes,
  };
}

const run = () => Promise.reject(new Error('not used'));

describe('the runner probe', () => {
  it('asks the kinds once and availability at most once per AVAILABLE_PROBE_MS', async () => {
    let kindsAsked = 0;
    let availableAsked = 0;
    const h = harness({ run, kinds: () => { kindsAsked++; return ['wasi', 'x86']; }, available: () => { availableAsked++; return true; } });
    for (let i = 0; i < 40; i++) await h.tick(100); // 4 s of ticks every 100 ms
    expect(kindsAsked).toBe(1);
    expect(availableAsked).toBeGreaterThanOrEqual(3);
    expect(availableAsked).toBeLessThanOrEqual(Math.ceil(4000 / AVAILABLE_PROBE_MS) + 1);
    expect(h.hosting()).toEqual(['wasi', 'x86']);
  });

  it('a runner without `available` (or whose call fails, as behind comlink) is asked once', async () => {
    let asked = 0;
    const proxyLike: SandboxRunner = { run, available: () => { asked++; throw new TypeError('runner.available is not a function'); } };
    const h = harness(proxyLike);
    for (let i = 0; i < 30; i++) await h.tick(300);
    expect(asked).toBe(1);
    expect(h.hosting()).toEqual(['wasi']);
  });

  it('a lender that pauses stops hosting at the next probe and hosts again when it takes tasks', async () => {
    let taking = true;
    const h = harness({ run, available: () => taking });
    await h.tick(100);
    expect(h.hosting()).toEqual(['wasi']);
    taking = false;
    for (let i = 0; i < 12; i++) await h.tick(100);
    expect(h.hosting()).toBeNull();
    taking = true;
    for (let i = 0; i < 12; i++) await h.tick(100);
    expect(h.hosting()).toEqual(['wasi']);
  });

  it('a runner that goes away stops hosting at once; a new one is asked afresh', async () => {
    let kindsAsked = 0;
    const h = harness({ run });
    await h.tick(100);
    expect(h.hosting()).toEqual(['wasi']);
    h.setRunner(null);
    await h.tick(100);
    expect(h.hosting()).toBeNull();
    h.setRunner({ run, kinds: () => { kindsAsked++; return ['wasi', 'x86']; } });
    await h.tick(100);
    expect(kindsAsked).toBe(1);
    expect(h.hosting()).toEqual(['wasi', 'x86']);
  });
});
