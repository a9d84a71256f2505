/** Snapshot patches between a node and its tabs (runtime/api.ts): only changed parts travel, merges are whole. */
import { describe, it, expect } from 'vitest';
import { applySnapshotPatch, snapshotDiffer, type NodeSnapshot } from '../../src/runtime/api.ts';

function snapshot(over: Partial<NodeSnapshot> = {}): NodeSnapshot {
  return {
    peerId: 'a'.repeat(40), cloud: 'public', startedAt: 1, now: 10, signaling: 'joined', hasConnectionHolder: true, tabs: 1,
    connections: [], view: [{ peer: 'b'.repeat(40), age: 0 }], estimatedSize: null, jobs: [], hosting: [],
    log: [{ seq: 1, at: 5, level: 'info', text: 'started' }], rejectedMessages: 0,
    services: { storage: { used: 0 }, cloud: { history: [1] } },
    ...over,
  };
}

describe('snapshot patches', () => {
  it('sends the first snapshot whole, then only the clock and the parts that changed', () => {
    const diff = snapshotDiffer();
    const first = diff(snapshot());
    expect(first).toEqual(snapshot());
    const second = diff(snapshot({ now: 11, view: [{ peer: 'b'.repeat(40), age: 1 }], services: { storage: { used: 0 }, cloud: { history: [1, 2] } } }));
    expect(second).toEqual({ now: 11, view: [{ peer: 'b'.repeat(40), age: 1 }], services: { cloud: { history: [1, 2] } } });
    expect(diff(snapshot({ now: 12, view: [{ peer: 'b'.repeat(40), age: 1 }], services: { storage: { used: 0 }, cloud: { history: [1, 2] } } }))).toEqual({ now: 12 });
  });

  it('merges patches into the same snapshot the node had, keeping unchanged parts as they were', () => {
    const diff = snapshotDiffer();
    const a = applySnapshotPatch(null, diff(snapshot()));
    const next = snapshot({ now: 11, tabs: 2, services: { storage: { used: 7 }, cloud: { history: [1] } } });
    const b = applySnapshotPatch(a, diff(next));
    expect(b).toEqual(next);
    expect(b!.log).toBe(a!.log);
    expect(b!.services['cloud']).toBe(a!.services['cloud']);
    expect(b!.services['storage']).not.toBe(a!.services['storage']);
  });

  it('keeps a differ per tab: a tab that was sent nothing yet gets the whole snapshot', () => {
    const one = snapshotDiffer();
    one(snapshot());
    expect(snapshotDiffer()(snapshot({ now: 11 }))).toEqual(snapshot({ now: 11 }));
  });

  it('refuses to build a snapshot from a partial first patch', () => {
    expect(applySnapshotPatch(null, { now: 3 })).toBeNull();
  });
});
