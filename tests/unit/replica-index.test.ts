import { describe, expect, it } from 'vitest';
import { ReplicaIndex, type IndexEvent } from '../../src/protocols/storage/replica-index.ts';

const p = (n: number): string => n.toString(16).padStart(40, '0');
const KEY = 'a'.repeat(40);
const [A, B, C] = [p(1), p(2), p(3)]; // replica holders
const [W1, W2, W3] = [p(11), p(12), p(13)]; // writers

function indexWithReplicas(timeout = 1000): ReplicaIndex {
  const index = new ReplicaIndex({ lockTimeoutMs: timeout });
  for (const h of [A, B, C]) expect(index.addReplica(KEY, h, 0).ok).toBe(true);
  return index;
}

function ok<T>(d: { ok: true; value: T } | { ok: false; code: string }): T {
  if (!d.ok) throw new Error(`expected ok, got ${d.code}`);
  return d.value;
}

const grants = (events: IndexEvent[]) => events.filter((e) => e.kind === 'granted').map((e) => (e.kind === 'granted' ? e.writer : ''));

describe('replica index', () => {
  it('grants a free lock with the newest replicas, and queues concurrent writers in arrival order', () => {
    const index = indexWithReplicas();
    expect(ok(index.requestWrite(KEY, W1, 0))).toEqual({ kind: 'granted', key: KEY, writer: W1, version: 0, sources: [A, B, C] });
    expect(ok(index.requestWrite(KEY, W2, 1))).toEqual({ kind: 'queued', key: KEY, writer: W2, position: 0 });
    expect(ok(index.requestWrite(KEY, W3, 2))).toEqual({ kind: 'queued', key: KEY, writer: W3, position: 1 });
    expect(ok(index.requestWrite(KEY, W2, 3))).toMatchObject({ kind: 'queued', position: 0 }); // asking again keeps its place
    expect(index.waiting(KEY)).toEqual([W2, W3]);

    const order: string[] = [W1];
    let now = 10;
    for (let round = 0; round < 3; round++) {
      const writer = index.lockHolder(KEY)!;
      const commit = ok(index.commit(KEY, writer, A, now++));
      expect(commit).toEqual([{ kind: 'update-replicas', key: KEY, version: round + 1, from: A, to: [B, C] }]);
      expect(index.confirmUpdate(KEY, B, round + 1, now++)).toEqual([]);
      const done = index.confirmUpdate(KEY, C, round + 1, now++);
      expect(done[0]).toEqual({ kind: 'unlocked', key: KEY, version: round + 1 });
      order.push(...grants(done));
    }
    expect(order).toEqual([W1, W2, W3]);
    expect(index.lockHolder(KEY)).toBeUndefined();
  });

  it('versions are linear: each commit adds exactly one, whoever writes', () => {
    const index = indexWithReplicas();
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const w = [W1, W2, W3][i % 3]!;
      ok(index.requestWrite(KEY, w, i * 10));
      ok(index.commit(KEY, w, [A, B, C][i % 3]!, i * 10 + 1));
      for (const h of [A, B, C]) index.confirmUpdate(KEY, h, index.version(KEY)!, i * 10 + 2);
      seen.push(index.version(KEY)!);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('a stale replica is never served: only holders of the newest version are readable', () => {
    const index = indexWithReplicas();
    ok(index.requestWrite(KEY, W1, 0));
    ok(index.commit(KEY, W1, B, 1));
    expect(index.newestReplicas(KEY)).toEqual([B]); // A and C still hold version 0
    index.confirmUpdate(KEY, A, 1, 2);
    expect(index.newestReplicas(KEY).sort()).toEqual([A, B]);
    expect(index.replicas(KEY).find((r) => r.holder === C)?.version).toBe(0);
  });

  it('a writer that dies holding the lock is broken after the timeout and the next writer is granted', () => {
    const index = indexWithReplicas(1000);
    ok(index.requestWrite(KEY, W1, 0));
    ok(index.requestWrite(KEY, W2, 100));
    expect(index.expire(999)).toEqual([]);
    expect(index.lockHolder(KEY)).toBe(W1);
    const events = index.expire(1000);
    expect(events).toEqual([
      { kind: 'lock-broken', key: KEY, writer: W1, version: 0 },
      { kind: 'unlocked', key: KEY, version: 0 },
      { kind: 'granted', key: KEY, writer: W2, version: 0, sources: [A, B, C] },
    ]);
    // The dead writer's late commit is refused; the version did not move.
    const late = index.commit(KEY, W1, A, 1001);
    expect(late.ok ? 'ok' : late.code).toBe('E_INDEX_NOT_LOCK_HOLDER');
    expect(index.version(KEY)).toBe(0);
    // The new holder's lease starts at its grant.
    expect(index.expire(1999)).toEqual([]);
    expect(grants(index.expire(2000))).toEqual([]);
    expect(index.lockHolder(KEY)).toBeUndefined();
  });

  it('an update stuck on a silent replica is broken by the timeout; its late confirmation is discarded', () => {
    const index = indexWithReplicas(1000);
    ok(index.requestWrite(KEY, W1, 0));
    ok(index.commit(KEY, W1, A, 10));
    index.confirmUpdate(KEY, B, 1, 20);
    ok(index.requestWrite(KEY, W2, 30));
    const events = index.expire(1000);
    expect(events.map((e) => e.kind)).toEqual(['lock-broken', 'unlocked', 'granted']);
    expect(grants(events)).toEqual([W2]);
    expect(index.confirmUpdate(KEY, C, 1, 1001)).toEqual([]);
    expect(index.newestReplicas(KEY).sort()).toEqual([A, B]);
    expect(index.replicas(KEY).find((r) => r.holder === C)?.version).toBe(0);
  });

  it('a lone replica unlocks at commit; release gives the lock to the next writer without a version change', () => {
    const index = new ReplicaIndex();
    ok(index.addReplica(KEY, A, 3));
    ok(index.requestWrite(KEY, W1, 0));
    ok(index.requestWrite(KEY, W2, 0));
    expect(grants(index.release(KEY, W1, 1))).toEqual([W2]);
    expect(index.version(KEY)).toBe(3);
    const events = ok(index.commit(KEY, W2, A, 2));
    expect(events[0]).toEqual({ kind: 'unlocked', key: KEY, version: 4 });
    expect(index.newestReplicas(KEY)).toEqual([A]);
  });

  it('refuses unknown keys, non-holders, non-replicas and versions ahead of the index', () => {
    const index = indexWithReplicas();
    const code = (d: { ok: boolean; code?: string }) => (d.ok ? 'ok' : d.code);
    expect(code(index.requestWrite('b'.repeat(40), W1, 0))).toBe('E_INDEX_UNKNOWN_KEY');
    expect(code(index.commit(KEY, W1, A, 0))).toBe('E_INDEX_NOT_LOCK_HOLDER');
    ok(index.requestWrite(KEY, W1, 0));
    expect(code(index.commit(KEY, W1, p(99), 0))).toBe('E_INDEX_NOT_A_REPLICA');
    expect(code(index.addReplica(KEY, p(98), 5))).toBe('E_INDEX_VERSION_AHEAD');
  });

  it('a holder that leaves stops blocking an update, and a queued writer that leaves is skipped', () => {
    const index = indexWithReplicas();
    ok(index.requestWrite(KEY, W1, 0));
    ok(index.requestWrite(KEY, W2, 0));
    ok(index.requestWrite(KEY, W3, 0));
    ok(index.commit(KEY, W1, A, 1));
    index.confirmUpdate(KEY, B, 1, 2);
    index.removePeer(W2, 3);
    const events = index.removePeer(C, 3);
    expect(grants(events)).toEqual([W3]);
    expect(index.newestReplicas(KEY).sort()).toEqual([A, B]);
  });
});
