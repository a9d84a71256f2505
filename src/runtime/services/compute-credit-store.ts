/**
 * Where a node keeps its credit ledger (compute-credit.ts) across restarts: IndexedDB through idb-keyval where it
 * exists (the browser's SharedWorker; one key per peer id and ledger kind), nowhere elsewhere (a Node peer starts
 * from zero). The storage-hours ledger (storage-credit.ts) uses it too, with kind 'storage'. Writes are coalesced:
 * at most one in flight, and the newest state is written after it.
 */
import { createStore, get, set, type UseStore } from 'idb-keyval';
import type { PeerId } from '../../core/ids.ts';
import type { CreditState } from './compute-credit.ts';

export interface CreditStore<S = CreditState> {
  load(): Promise<unknown>;
  save(state: S): Promise<void>;
}

/** `kind` 'compute' keeps the key the compute ledger always had (the peer id); other kinds add a suffix. */
export function defaultCreditStore<S = CreditState>(self: PeerId, kind = 'compute'): CreditStore<S> | null {
  if (typeof indexedDB === 'undefined') return null;
  const db: UseStore = createStore('nephele-credit', 'ledgers');
  const key = kind === 'compute' ? self : `${self}:${kind}`;
  return {
    load: () => get(key, db),
    save: (state) => set(key, state, db),
  };
}

/**
 * Saves the latest state handed to `write`, one write at a time, and at least `minGapMs` after the previous write
 * began (an IndexedDB transaction per credit notice, many a second per host while tiny tasks stream, cost more
 * CPU than the tasks; a crash loses at most that much of the newest credit). Failures are reported, not thrown.
 */
export class CoalescedWriter<S = CreditState> {
  private pending: S | null = null;
  private writing = false;
  private lastStart = -Infinity;

  constructor(
    private readonly store: CreditStore<S>,
    private readonly onError: (err: unknown) => void,
    private readonly minGapMs = 0,
  ) {}

  write(state: S): void {
    this.pending = state;
    if (!this.writing) void this.flush();
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending) {
      const wait = this.lastStart + this.minGapMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const state = this.pending;
      this.pending = null;
      this.lastStart = performance.now();
      try {
        await this.store.save(state);
      } catch (err) {
        this.onError(err);
      }
    }
    this.writing = false;
  }
}
