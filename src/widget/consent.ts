/**
 * The visitor's lending choice, remembered per cloud and partner origin in the widget's own localStorage (the
 * cloud's origin, partitioned by the browser under the partner's site). Nothing is written until the visitor
 * chooses; reading never writes. A stored value is validated like any outside input.
 */
import { z } from 'zod/mini';
import { MAX_CPU_PERCENT, MIN_CPU_PERCENT } from './params.ts';

export type ConsentChoice = 'in' | 'out';

export interface ConsentRecord {
  readonly choice: ConsentChoice;
  /** Epoch ms of the choice. */
  readonly at: number;
  /** The CPU share the visitor picked, percent. */
  readonly cpuPercent: number;
  /** Whether the visitor also lends storage (off unless turned on). */
  readonly lendStorage: boolean;
}

/** The part of the Web Storage API used here (tests pass a Map-backed one). */
export interface ConsentStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const recordSchema = z.object({
  choice: z.enum(['in', 'out']),
  at: z.number(),
  cpuPercent: z.number().check(z.int(), z.minimum(MIN_CPU_PERCENT), z.maximum(MAX_CPU_PERCENT)),
  lendStorage: z.boolean(),
});

export function consentKey(cloud: string, partner: string | null): string {
  return `nephele-widget-consent:v1:${cloud}:${partner ?? 'direct'}`;
}

/** The remembered choice, or null when the visitor has not chosen (or storage is unreadable or corrupt). */
export function readConsent(storage: ConsentStorage | null, cloud: string, partner: string | null): ConsentRecord | null {
  if (!storage) return null;
  let raw: string | null;
  try {
    raw = storage.getItem(consentKey(cloud, partner));
  } catch {
    return null;
  }
  if (raw === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return null;
  }
  const parsed = recordSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** Remembers a choice; returns false when the browser refuses storage (the choice then lasts this page only). */
export function writeConsent(storage: ConsentStorage | null, cloud: string, partner: string | null, record: ConsentRecord): boolean {
  if (!storage) return false;
  try {
    storage.setItem(consentKey(cloud, partner), JSON.stringify(record));
    return true;
  } catch {
    return false;
  }
}
