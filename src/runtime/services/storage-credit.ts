/**
 * Credit for storage lent (issue #6: "every peer keeps an account of CPU-seconds given and storage-hours lent"):
 * a pure accumulator of bytes × time, in GiB-hours. The storage service calls `observe(now, bytesHeld)` as it
 * runs (each tick is plenty); the interval since the previous observation counts the bytes held at BOTH ends
 * (the smaller of the two), so bytes are never credited for a time they might not have been held.
 *
 * An interval longer than `maxGapMs` (the node was asleep, closed, or its clock jumped) earns nothing: a peer
 * that is not running lends nothing, even though its chunks are still on disk. A clock going backwards just
 * restarts the interval. The state is a small JSON object (`state()` / `restore()`), validated on load.
 */
import { z } from 'zod';
import { CoalescedWriter, type CreditStore } from './compute-credit-store.ts';

export const GIB = 1024 ** 3;
export const HOUR_MS = 3_600_000;
/** Longest interval between observations that still counts (the runtime observes every tick, ~1 s). */
export const DEFAULT_MAX_GAP_MS = 60_000;

export const storageCreditStateSchema = z.strictObject({
  v: z.literal(1),
  gibHours: z.number().min(0).max(1e12),
  /** The last observation, so a restart soon after (a reload) keeps counting; null before the first. */
  last: z.strictObject({ atMs: z.number().min(0).max(1e15), bytes: z.number().min(0).max(2 ** 53) }).nullable(),
});
export type StorageCreditState = z.infer<typeof storageCreditStateSchema>;

export class StorageCredit {
  private gibHoursTotal = 0;
  private last: { atMs: number; bytes: number } | null = null;

  constructor(private readonly maxGapMs = DEFAULT_MAX_GAP_MS) {}

  /** At `nowMs` this node holds `usedBytes` for the cloud; credits the interval since the previous observation. */
  observe(nowMs: number, usedBytes: number): void {
    if (!Number.isFinite(nowMs) || !Number.isFinite(usedBytes)) return;
    const bytes = Math.max(0, usedBytes);
    const prev = this.last;
    this.last = { atMs: nowMs, bytes };
    if (prev === null) return;
    const elapsed = nowMs - prev.atMs;
    if (elapsed <= 0 || elapsed > this.maxGapMs) return;
    this.gibHoursTotal += (Math.min(prev.bytes, bytes) / GIB) * (elapsed / HOUR_MS);
  }

  /** Storage lent so far, GiB-hours. */
  get gibHours(): number {
    return this.gibHoursTotal;
  }

  state(): StorageCreditState {
    return { v: 1, gibHours: this.gibHoursTotal, last: this.last };
  }

  /** Restores a persisted state (added to what was counted since start); false if it is not a valid state. */
  restore(raw: unknown): boolean {
    const parsed = storageCreditStateSchema.safeParse(raw);
    if (!parsed.success) return false;
    this.gibHoursTotal += parsed.data.gibHours;
    if (this.last === null && parsed.data.last !== null) this.last = { ...parsed.data.last };
    return true;
  }
}

/**
 * The storage service's running account: observes the bytes held every tick, saves the state every
 * `saveEveryTicks` ticks (IndexedDB in the browser, nowhere in Node) and restores it at start.
 */
export class LentStorageAccount {
  private readonly credit = new StorageCredit();
  private readonly writer: CoalescedWriter<StorageCreditState> | null;
  private ticks = 0;

  constructor(store: CreditStore<StorageCreditState> | null, private readonly log: (text: string) => void, private readonly saveEveryTicks = 60) {
    this.writer = store ? new CoalescedWriter(store, (err) => log(`could not save storage credit: ${String(err)}`)) : null;
    store?.load().then(
      (saved) => {
        if (saved !== undefined && !this.credit.restore(saved)) log('the saved storage credit is not valid; starting from zero');
      },
      (err: unknown) => log(`could not read saved storage credit: ${String(err)}`),
    );
  }

  tick(nowMs: number, usedBytes: number): void {
    this.credit.observe(nowMs, usedBytes);
    if (++this.ticks % this.saveEveryTicks === 0) this.writer?.write(this.credit.state());
  }

  get gibHours(): number {
    return this.credit.gibHours;
  }
}
