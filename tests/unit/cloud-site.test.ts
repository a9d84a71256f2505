/**
 * Site clustering (UCComp) as the directory decides it: peers of the same site label, the head is the one up the
 * longest, a relayed entry's uptime is aged back to now, and a head that is no longer heard of gives way.
 */
import { describe, expect, it } from 'vitest';
import { Directory, siteOf } from '../../src/runtime/services/cloud-directory.ts';
import type { NodeAttributes } from '../../src/protocols/attributes.ts';

const id = (n: number): string => n.toString(16).padStart(40, '0');
const attrs = (site: string, uptimeS: number): NodeAttributes => ({ cores: 2, memoryMB: 1024, gpuMemoryMB: null, cpuScore: 1, storageMB: 100, uptimeS, site });
const entry = (peer: string, site: string, uptimeS: number, age = 0) => ({ peer, age, attrs: attrs(site, uptimeS), slice: null });

describe('site clustering', () => {
  it('groups peers by site label and elects the longest-up peer as head', () => {
    const dir = new Directory(id(1));
    dir.merge(id(2), [entry(id(2), 'lab', 50)]);
    dir.merge(id(3), [entry(id(3), 'lab', 90)]);
    dir.merge(id(4), [entry(id(4), 'home', 500)]);
    expect(siteOf(id(1), attrs('lab', 10), dir)).toEqual({ head: id(3), members: [id(1), id(2), id(3)] });
    expect(siteOf(id(1), attrs('home', 10), dir)).toEqual({ head: id(4), members: [id(1), id(4)] });
  });

  it('ages a relayed uptime back to now, so a younger peer heard first-hand does not outrank the head', () => {
    const dir = new Directory(id(1));
    // id(3) said "up 100 s" 20 cycles (10 s) ago, relayed by id(9); id(2) says "up 105 s" now.
    dir.merge(id(9), [entry(id(9), 'x', 1), entry(id(3), 'lab', 100, 19)]);
    dir.merge(id(2), [entry(id(2), 'lab', 105)]);
    expect(siteOf(id(1), attrs('lab', 1), dir, 0.5).head).toBe(id(3)); // 100 + 20 · 0.5 = 110 > 105
    expect(siteOf(id(1), attrs('lab', 1), dir, 0).head).toBe(id(2)); // taken at face value, the wrong head
  });

  it('hands the head role on when the head is no longer heard of', () => {
    const dir = new Directory(id(1), 5);
    dir.merge(id(3), [entry(id(3), 'lab', 90)]);
    dir.merge(id(2), [entry(id(2), 'lab', 50)]);
    expect(siteOf(id(1), attrs('lab', 10), dir).head).toBe(id(3));
    for (let i = 0; i < 6; i++) {
      dir.tick();
      dir.merge(id(2), [entry(id(2), 'lab', 50 + i)]); // id(2) keeps speaking, id(3) is gone
    }
    expect(siteOf(id(1), attrs('lab', 10), dir)).toEqual({ head: id(2), members: [id(1), id(2)] });
  });
});
