import { describe, expect, it } from 'vitest';
import { defaultMaxVotes, tally, type Vote } from '../../src/protocols/scheduler/quorum.ts';

const h = (n: number): string => n.toString(16).padStart(40, '0');
const votes = (...digests: string[]): Vote[] => digests.map((digest, i) => ({ host: h(i + 1), digest }));
const rule23 = { n: 3, k: 2, maxVotes: defaultMaxVotes(3) };

describe('quorum tally', () => {
  it('asks for n copies before any vote, minus those in flight', () => {
    expect(tally([], 0, rule23)).toEqual({ kind: 'waiting', replicasWanted: 3 });
    expect(tally([], 2, rule23)).toEqual({ kind: 'waiting', replicasWanted: 1 });
    expect(tally([], 0, { n: 1, k: 1, maxVotes: 2 })).toEqual({ kind: 'waiting', replicasWanted: 1 });
  });

  it('accepts at k agreeing digests and names the others as suspects', () => {
    const v = tally(votes('A', 'B', 'A'), 0, rule23);
    expect(v).toEqual({ kind: 'accepted', digest: 'A', agreeing: [h(1), h(3)], suspects: [h(2)] });
  });

  it('does not accept k-1 agreeing digests, however many copies are out', () => {
    expect(tally(votes('A'), 2, rule23).kind).toBe('waiting');
    expect(tally(votes('A', 'B'), 1, rule23)).toEqual({ kind: 'waiting', replicasWanted: 0 });
  });

  it('issues extra copies when the n votes disagree, up to the cap', () => {
    expect(tally(votes('A', 'B', 'C'), 0, rule23)).toEqual({ kind: 'waiting', replicasWanted: 1 });
    expect(tally(votes('A', 'B', 'C', 'D', 'E'), 0, rule23)).toEqual({ kind: 'waiting', replicasWanted: 1 });
    const v = tally(votes('A', 'B', 'C', 'D', 'E', 'F'), 0, rule23);
    expect(v.kind).toBe('impossible');
  });

  it('a 4-of-7 quorum with 3 liars still needs four honest votes', () => {
    const rule = { n: 7, k: 4, maxVotes: defaultMaxVotes(7) };
    expect(tally(votes('X', 'Y', 'Z', 'A', 'A', 'A'), 1, rule).kind).toBe('waiting');
    const v = tally(votes('X', 'Y', 'Z', 'A', 'A', 'A', 'A'), 0, rule);
    expect(v.kind === 'accepted' && v.suspects.length === 3 && v.digest === 'A').toBe(true);
  });

  it('one vote suffices for 1-of-1', () => {
    expect(tally(votes('A'), 0, { n: 1, k: 1, maxVotes: 2 })).toMatchObject({ kind: 'accepted', digest: 'A', suspects: [] });
  });
});
