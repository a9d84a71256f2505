/**
 * The credit fields of the widget's status as public/embed.js passes them to the partner page: `acceptedSeconds`
 * (CPU-seconds the cloud's quorums accepted) and `storageGiBHours` are optional, passed on when well-formed, and
 * a status carrying a malformed one is dropped whole. (The loader's other duties: widget-embed.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

const SOURCE = readFileSync(new URL('../../public/embed.js', import.meta.url), 'utf8');
const CLOUD = 'https://cloud.example';

/** Runs embed.js with the few DOM pieces it touches; returns how to deliver a message and the details it emitted. */
function loadEmbed() {
  const details: unknown[] = [];
  const frameWindow = { postMessage: () => undefined };
  const iframe = { src: '', title: '', style: {}, contentWindow: frameWindow, setAttribute() {}, addEventListener() {} };
  const script = {
    src: `${CLOUD}/embed.js`, dataset: { cloud: 'demo' }, isConnected: true, nextSibling: null,
    parentNode: { insertBefore: () => undefined },
    dispatchEvent: (e: { type: string; detail: unknown }) => { if (e.type === 'nephele:status') details.push(e.detail); },
  };
  let onMessage: ((event: { origin: string; source: unknown; data: unknown }) => void) | null = null;
  const window = { addEventListener: (type: string, fn: typeof onMessage) => { if (type === 'message') onMessage = fn; } };
  const document = { currentScript: script, createElement: () => iframe, querySelector: () => null, body: {} };
  class CustomEvent {
    constructor(readonly type: string, private readonly init: { detail: unknown }) {}
    get detail(): unknown { return this.init.detail; }
  }
  runInNewContext(SOURCE, { document, window, location: { origin: 'https://shop.example' }, URL, CustomEvent });
  const deliver = (status: Record<string, unknown>): void =>
    onMessage?.({ origin: CLOUD, source: frameWindow, data: { source: 'nephele-widget', v: 1, type: 'status', height: 200, status } });
  return { details, deliver };
}

const base = { cloud: 'demo', state: 'lending', optedIn: true, pausedBecause: [], links: 1, tasksRun: 2, cpuSeconds: 0.4, storageBytes: 0 };

describe('embed.js credit fields', () => {
  it('passes on accepted CPU-seconds and storage-hours when the widget reports them', () => {
    const { details, deliver } = loadEmbed();
    deliver({ ...base, acceptedSeconds: 0.012, storageGiBHours: 0.5 });
    expect(details).toEqual([{ ...base, acceptedSeconds: 0.012, storageGiBHours: 0.5 }]);
  });

  it('drops a status whose credit fields are not non-negative numbers', () => {
    const { details, deliver } = loadEmbed();
    deliver({ ...base, acceptedSeconds: -1 });
    deliver({ ...base, acceptedSeconds: '5' });
    deliver({ ...base, storageGiBHours: Number.POSITIVE_INFINITY });
    deliver({ ...base, storageGiBHours: null });
    expect(details).toEqual([]);
  });
});
