/**
 * The lending widget's pure parts: its URL settings, who embeds it, the remembered consent (never written by
 * reading), the duty-cycle CPU cap, the contribution tally, what it accepts from the host page, and when it pauses.
 */
import { describe, expect, it } from 'vitest';
import { readWidgetParams, resolvePartnerOrigin } from '../../src/widget/params.ts';
import { consentKey, readConsent, writeConsent, type ConsentStorage } from '../../src/widget/consent.ts';
import { CpuBudget } from '../../src/widget/cpu-budget.ts';
import { ContributionLedger } from '../../src/widget/ledger.ts';
import { acceptHostMessage } from '../../src/widget/host-messages.ts';
import { pauseReasons } from '../../src/widget/pause-conditions.ts';

class MapStorage implements ConsentStorage {
  readonly map = new Map<string, string>();
  writes = 0;
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.writes++;
    this.map.set(key, value);
  }
}

describe('readWidgetParams', () => {
  it('reads valid settings', () => {
    expect(readWidgetParams('?cloud=demo-1&cpu=35&theme=dark&accent=%23aa00FF&partner=https%3A%2F%2Fshop.example%2F')).toEqual({
      cloud: 'demo-1', cpuPercent: 35, theme: 'dark', accent: '#aa00FF', claimedPartner: 'https://shop.example',
    });
  });

  it('falls back to defaults for anything malformed', () => {
    expect(readWidgetParams('?cloud=Bad_Name&cpu=500&theme=neon&accent=red;x&partner=javascript:alert(1)')).toEqual({
      cloud: 'public', cpuPercent: 20, theme: 'auto', accent: null, claimedPartner: null,
    });
    expect(readWidgetParams('?cpu=2').cpuPercent).toBe(20);
    expect(readWidgetParams('?cpu=12.5').cpuPercent).toBe(20);
    expect(readWidgetParams('').cloud).toBe('public');
  });
});

describe('resolvePartnerOrigin', () => {
  const shop = 'https://shop.example';
  it("trusts the browser's parent origin over a claim and refuses a false claim", () => {
    expect(resolvePartnerOrigin({ framed: true, claimed: shop, parentOrigin: shop, referrer: '' })).toEqual({ ok: true, origin: shop });
    expect(resolvePartnerOrigin({ framed: true, claimed: null, parentOrigin: shop, referrer: '' })).toEqual({ ok: true, origin: shop });
    const lie = resolvePartnerOrigin({ framed: true, claimed: shop, parentOrigin: 'https://evil.example', referrer: '' });
    expect(lie.ok).toBe(false);
    if (!lie.ok) expect(lie.code).toBe('E_PARTNER_MISMATCH');
  });

  it('checks a claim against the referrer where the parent origin is unknown', () => {
    expect(resolvePartnerOrigin({ framed: true, claimed: shop, parentOrigin: null, referrer: `${shop}/page?q=1` })).toEqual({ ok: true, origin: shop });
    expect(resolvePartnerOrigin({ framed: true, claimed: shop, parentOrigin: null, referrer: 'https://evil.example/' }).ok).toBe(false);
  });

  it('has no partner when opened directly', () => {
    expect(resolvePartnerOrigin({ framed: false, claimed: shop, parentOrigin: null, referrer: '' })).toEqual({ ok: true, origin: null });
  });
});

describe('consent', () => {
  it('reading never writes, and nothing is remembered until a choice', () => {
    const storage = new MapStorage();
    expect(readConsent(storage, 'public', 'https://shop.example')).toBeNull();
    expect(storage.writes).toBe(0);
    expect(storage.map.size).toBe(0);
  });

  it('remembers the choice per cloud and partner', () => {
    const storage = new MapStorage();
    expect(writeConsent(storage, 'public', 'https://shop.example', { choice: 'in', at: 1, cpuPercent: 10, lendStorage: false })).toBe(true);
    expect(readConsent(storage, 'public', 'https://shop.example')).toEqual({ choice: 'in', at: 1, cpuPercent: 10, lendStorage: false });
    expect(readConsent(storage, 'public', 'https://other.example')).toBeNull();
    expect(readConsent(storage, 'demo', 'https://shop.example')).toBeNull();
    expect(consentKey('public', null)).not.toBe(consentKey('public', 'https://shop.example'));
  });

  it('treats corrupt or foreign stored values as no choice, and blocked storage as not remembered', () => {
    const storage = new MapStorage();
    storage.map.set(consentKey('public', null), '{"choice":"always","at":1,"cpuPercent":10,"lendStorage":false}');
    expect(readConsent(storage, 'public', null)).toBeNull();
    storage.map.set(consentKey('public', null), 'not json');
    expect(readConsent(storage, 'public', null)).toBeNull();
    const blocked: ConsentStorage = { getItem: () => { throw new Error('SecurityError'); }, setItem: () => { throw new Error('SecurityError'); } };
    expect(readConsent(blocked, 'public', null)).toBeNull();
    expect(writeConsent(blocked, 'public', null, { choice: 'out', at: 1, cpuPercent: 20, lendStorage: false })).toBe(false);
    expect(writeConsent(null, 'public', null, { choice: 'out', at: 1, cpuPercent: 20, lendStorage: false })).toBe(false);
  });
});

describe('CpuBudget', () => {
  it('runs one task at a time and rests so the share stays under the cap', () => {
    const budget = new CpuBudget(20);
    expect(budget.refusal(0)).toBeNull();
    budget.begin();
    expect(budget.refusal(10)).toMatch(/^E_LENDER_BUSY/);
    budget.end(1000, 1000); // ran 1 s at 20%: rest 4 s
    expect(budget.refusal(4999)).toMatch(/^E_CPU_CAP/);
    expect(budget.refusal(5000)).toBeNull();
  });

  it('over a long run, busy time stays at most the cap', () => {
    const budget = new CpuBudget(25);
    let now = 0;
    let busy = 0;
    for (let i = 0; i < 1000; i++) {
      if (budget.refusal(now) !== null) { now += 50; continue; }
      budget.begin();
      const ran = 100 + (i % 7) * 30;
      now += ran;
      busy += ran;
      budget.end(now, ran);
    }
    while (budget.refusal(now) !== null) now += 1; // the last task's rest belongs to its window
    expect(busy / now).toBeLessThanOrEqual(0.25 + 1e-9);
    expect(busy / now).toBeGreaterThan(0.2);
  });

  it('never rests at 100% and clamps nonsense', () => {
    const budget = new CpuBudget(100);
    budget.begin();
    budget.end(500, 500);
    expect(budget.refusal(500)).toBeNull();
    expect(new CpuBudget(Number.NaN).percent).toBe(20);
    expect(new CpuBudget(0).percent).toBe(1);
  });
});

describe('ContributionLedger', () => {
  it('tallies what ran, for whom, and refusals', () => {
    const ledger = new ContributionLedger();
    ledger.started('hello.wasm');
    ledger.observeHosting([{ name: 'other.wasm', forPeer: 'f'.repeat(40) }]);
    ledger.observeHosting([{ name: 'hello.wasm', forPeer: 'ab'.repeat(20) }]);
    ledger.finished(1234.4, true, null);
    ledger.started('loop.wasm');
    ledger.finished(2000, false, 'E_TIME_LIMIT');
    ledger.refused();
    const t = ledger.totals();
    expect(t.tasksRun).toBe(2);
    expect(t.tasksRefused).toBe(1);
    expect(t.cpuMs).toBe(3234);
    expect(t.recent[0]).toEqual({ name: 'loop.wasm', forPeer: null, durationMs: 2000, ok: false, code: 'E_TIME_LIMIT' });
    expect(t.recent[1]?.forPeer).toBe('abababab');
  });
});

describe('acceptHostMessage', () => {
  const parent = {};
  const origin = 'https://shop.example';
  const ask = { source: 'nephele-host', v: 1, type: 'get-status' };
  it('accepts only get-status from the parent at the partner origin', () => {
    expect(acceptHostMessage({ source: parent, origin, data: ask }, parent, origin)).toEqual(ask);
    expect(acceptHostMessage({ source: {}, origin, data: ask }, parent, origin)).toBeNull();
    expect(acceptHostMessage({ source: parent, origin: 'https://evil.example', data: ask }, parent, origin)).toBeNull();
    expect(acceptHostMessage({ source: parent, origin, data: ask }, parent, null)).toBeNull();
    for (const type of ['opt-in', 'opt-out', 'submit-job', 'read-storage']) {
      expect(acceptHostMessage({ source: parent, origin, data: { ...ask, type } }, parent, origin)).toBeNull();
    }
    expect(acceptHostMessage({ source: parent, origin, data: 'get-status' }, parent, origin)).toBeNull();
  });
});

describe('pauseReasons', () => {
  it('names each reason to pause', () => {
    expect(pauseReasons({ hidden: false, onBattery: false, saveData: false })).toEqual([]);
    expect(pauseReasons({ hidden: true, onBattery: true, saveData: true })).toEqual(['hidden', 'battery', 'save-data']);
  });
});
