/**
 * A small keyed store of JSON records beside the chunk store: what a node must remember about named objects
 * across a restart (which version of which name it holds, the replica index it keeps). Implementations: memory
 * (tests, Node peers) and IndexedDB (idb-record-store.ts, the browser's SharedWorker). Values are plain JSON data;
 * readers validate what they load, as anything read back from disk is data from outside the program.
 */
export interface RecordStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every record whose key starts with `prefix`, in key order. */
  entries(prefix: string): Promise<[string, unknown][]>;
}

export class MemoryRecordStore implements RecordStore {
  private readonly records = new Map<string, unknown>();

  async get(key: string): Promise<unknown> {
    const value = this.records.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  async set(key: string, value: unknown): Promise<void> {
    this.records.set(key, structuredClone(value));
  }

  async delete(key: string): Promise<void> {
    this.records.delete(key);
  }

  async entries(prefix: string): Promise<[string, unknown][]> {
    return [...this.records].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, structuredClone(v)]);
  }
}
