/**
 * Records (record-store.ts) in IndexedDB through idb-keyval, in a database of their own so they never mix with
 * chunks. One database per peer in the browser's SharedWorker.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import type { RecordStore } from './record-store.ts';

export class IdbRecordStore implements RecordStore {
  private readonly db: UseStore;

  constructor(dbName: string) {
    this.db = createStore(dbName, 'records');
  }

  get(key: string): Promise<unknown> {
    return get(key, this.db);
  }

  set(key: string, value: unknown): Promise<void> {
    return set(key, value, this.db);
  }

  delete(key: string): Promise<void> {
    return del(key, this.db);
  }

  async entries(prefix: string): Promise<[string, unknown][]> {
    const all = await entries<IDBValidKey, unknown>(this.db);
    const out: [string, unknown][] = [];
    for (const [k, v] of all) if (typeof k === 'string' && k.startsWith(prefix)) out.push([k, v]);
    return out.sort(([a], [b]) => (a < b ? -1 : 1));
  }
}
