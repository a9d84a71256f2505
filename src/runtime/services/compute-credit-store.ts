/**
 * Where a node keeps its credit ledger (compute-credit.ts) across restarts: IndexedDB through idb-keyval where it
 * exists (the browser's SharedWorker; one key per peer id), nowhere elsewhere (a Node peer starts from zero).
 * Writes are coalesced: at most one in flight, and the newest state is written after it.
 */
import { createStore, get, set, type UseStore } from 'idb-keyval';
import type { PeerId } from '../../core/ids.ts';
import type { CreditState } from './compute-credit.ts';

export interface CreditStore {
  load(): Promise<unknown>;
  save(state: CreditState): Promise<void>;
}

export function defaultCreditStore(self: PeerId): CreditStore | null {
  if (typeof indexedDB === 'undefined') return null;
  const db: UseStore = createStore('nephele-credit', 'ledgers');
  return {
    load: () => get(self, db),
    save: (state) => set(self, state, db),
  };
}

/** Saves the latest state handed to `write`, one write at a time; failures are reported, not thrown. */
export class CoalescedWriter {
  private pending: CreditState | null = null;
  private writing = false;

  constructor(private readonly store: CreditStore, private readonly onError: (err: unknown) => void) {}

  write(state: CreditState): void {
    this.pending = state;
    if (!this.writing) void this.flush();
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending) {
      const state = this.pending;
      this.pending = null;
      try {
        await this.store.save(state);
      } catch (err) {
        this.onError(err);
      }
    }
    this.writing = false;
  }
}
