/**
 * Cloud totals of credit (issue #6): the ledger contributes its credit as summed values (averaging.ts: missing
 * counts as 0), leaves out partners it earned nothing for, and the desk reports mean × estimated size.
 */
import { describe, expect, it } from 'vitest';
import { CREDIT_VALUE, CreditLedger, partnerValueName } from '../../src/runtime/services/compute-credit.ts';
import { CreditDesk } from '../../src/runtime/services/compute-credit-desk.ts';
import { isSummedKey } from '../../src/protocols/aggregation/averaging.ts';

const SUBMITTER = 'a'.repeat(40);
const JOB = '0123456789abcdef';
const PARTNER = 'https://shop.example';

describe('credit totals', () => {
  it('contributes summed values only, and no idle partner', () => {
    const ledger = new CreditLedger();
    ledger.setPartner('https://idle.example');
    ledger.setPartner(PARTNER);
    ledger.reported(SUBMITTER, JOB, 0, 10_000);
    ledger.onNotice(SUBMITTER, { v: 1, t: 'credit', jobId: JOB, task: 0, durationMs: 2000 });
    const values = ledger.localValues();
    expect(Object.keys(values).every(isSummedKey)).toBe(true);
    expect(values).toEqual({ [CREDIT_VALUE]: 2, [partnerValueName(PARTNER)]: 2 });
    expect(new CreditLedger().localValues()).toEqual({ [CREDIT_VALUE]: 0 });
  });

  it('reports cloud totals as mean × estimated size, null before aggregation has both', () => {
    let averages: Map<string, number> | null = null;
    let size: number | null = null;
    const desk = new CreditDesk({
      self: 'c'.repeat(40), sendFrame: () => true, connect: () => undefined, log: () => undefined, changed: () => undefined,
      averages: () => averages, estimatedSize: () => size,
    }, null);
    desk.setPartner(PARTNER);
    expect(desk.view().cloudCreditSeconds).toBeNull();
    averages = new Map([[CREDIT_VALUE, 0.5], [partnerValueName(PARTNER), 0.03]]);
    expect(desk.view().cloudCreditSeconds).toBeNull(); // no size estimate yet
    size = 1000;
    const view = desk.view();
    expect(view.cloudCreditSeconds).toBe(500);
    expect(view.partners).toEqual([{ origin: PARTNER, seconds: 0, cloudSeconds: 30 }]);
  });
});
