/**
 * public/embed.js, the partner's one-tag loader, run as written in a bare script context with a stand-in DOM
 * (the smallest one it touches): it frames the widget at the cloud's origin with the partner's origin in the URL,
 * re-dispatches only well-formed status messages that come from its own frame AND the cloud's origin, and asks
 * the widget for status at that origin only.
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

const SOURCE = readFileSync(new URL('../../public/embed.js', import.meta.url), 'utf8');
const CLOUD = 'https://cloud.example';
const PARTNER = 'https://shop.example';

class FakeCustomEvent {
  constructor(readonly type: string, readonly init: { detail: unknown; bubbles: boolean }) {}
  get detail(): unknown {
    return this.init.detail;
  }
}

interface Posted { readonly message: unknown; readonly targetOrigin: string }

function loadEmbed(dataset: Record<string, string> = { cloud: 'demo', cpu: '10', theme: 'dark' }) {
  const events: FakeCustomEvent[] = [];
  const posted: Posted[] = [];
  const frameWindow = { postMessage: (message: unknown, targetOrigin: string) => posted.push({ message, targetOrigin }) };
  const iframeListeners = new Map<string, () => void>();
  const iframe = {
    src: '', title: '', style: {} as Record<string, string>, attributes: new Map<string, string>(), contentWindow: frameWindow,
    setAttribute(name: string, value: string) { this.attributes.set(name, value); },
    addEventListener(type: string, fn: () => void) { iframeListeners.set(type, fn); },
  };
  const inserted: unknown[] = [];
  const script: Record<string, unknown> = {
    src: `${CLOUD}/embed.js`, dataset, isConnected: true, nextSibling: null,
    parentNode: { insertBefore: (el: unknown) => inserted.push(el) },
    dispatchEvent: (e: FakeCustomEvent) => events.push(e),
  };
  let onMessage: ((event: { origin: string; source: unknown; data: unknown }) => void) | null = null;
  const window = {
    addEventListener: (type: string, fn: typeof onMessage) => { if (type === 'message') onMessage = fn; },
    dispatchEvent: (e: FakeCustomEvent) => events.push(e),
  };
  const document = {
    currentScript: script,
    createElement: (tag: string) => { expect(tag).toBe('iframe'); return iframe; },
    querySelector: () => null,
    body: { appendChild: (el: unknown) => inserted.push(el) },
  };
  runInNewContext(SOURCE, { document, window, location: { origin: PARTNER }, URL, CustomEvent: FakeCustomEvent });
  const deliver = (origin: string, source: unknown, data: unknown): void => onMessage?.({ origin, source, data });
  return { iframe, inserted, events, posted, script, frameWindow, deliver, load: () => iframeListeners.get('load')?.() };
}

const goodStatus = {
  source: 'nephele-widget', v: 1, type: 'status', height: 260,
  status: { cloud: 'demo', state: 'lending', optedIn: true, pausedBecause: [], links: 1, tasksRun: 2, cpuSeconds: 0.4, storageBytes: 0 },
};

describe('embed.js', () => {
  it("frames the cloud's widget page with the partner's settings and origin, sandboxed and titled", () => {
    const { iframe, inserted } = loadEmbed();
    expect(inserted).toEqual([iframe]);
    const src = new URL(iframe.src);
    expect(src.origin).toBe(CLOUD);
    expect(src.pathname).toBe('/widget.html');
    expect(Object.fromEntries(src.searchParams)).toEqual({ cloud: 'demo', cpu: '10', theme: 'dark', partner: PARTNER });
    expect(iframe.title).toMatch(/Nephele/);
    expect(iframe.attributes.get('sandbox')?.split(' ').sort()).toEqual(
      ['allow-popups', 'allow-popups-to-escape-sandbox', 'allow-same-origin', 'allow-scripts'],
    );
  });

  it("re-dispatches a status from its own frame at the cloud's origin, and opted-in once", () => {
    const { events, frameWindow, deliver, iframe } = loadEmbed();
    deliver(CLOUD, frameWindow, goodStatus);
    deliver(CLOUD, frameWindow, goodStatus);
    expect(events.map((e) => e.type)).toEqual(['nephele:status', 'nephele:opted-in', 'nephele:status']);
    expect(events[0]?.detail).toEqual(goodStatus.status);
    expect(events[0]?.init.bubbles).toBe(true);
    expect(iframe.style.height).toBe('260px');
    deliver(CLOUD, frameWindow, { ...goodStatus, status: { ...goodStatus.status, state: 'declined', optedIn: false } });
    expect(events.at(-1)?.type).toBe('nephele:opted-out');
  });

  it('ignores messages from another origin, another window, or that are not well-formed status', () => {
    const { events, frameWindow, deliver } = loadEmbed();
    deliver(PARTNER, frameWindow, goodStatus); // right window, wrong origin
    deliver('https://cloud.example.evil', frameWindow, goodStatus);
    deliver('http://cloud.example', frameWindow, goodStatus);
    deliver(CLOUD, {}, goodStatus); // right origin, some other frame of the cloud
    deliver(CLOUD, null, goodStatus);
    deliver(CLOUD, frameWindow, 'status');
    deliver(CLOUD, frameWindow, { ...goodStatus, v: 2 });
    deliver(CLOUD, frameWindow, { ...goodStatus, source: 'nephele-host' });
    deliver(CLOUD, frameWindow, { ...goodStatus, status: { ...goodStatus.status, state: 'pwned' } });
    deliver(CLOUD, frameWindow, { ...goodStatus, status: { ...goodStatus.status, tasksRun: -1 } });
    deliver(CLOUD, frameWindow, { ...goodStatus, status: { ...goodStatus.status, pausedBecause: ['<img>'] } });
    deliver(CLOUD, frameWindow, { ...goodStatus, status: { ...goodStatus.status, optedIn: 'yes' } });
    expect(events).toEqual([]);
  });

  it('passes on only the known status fields', () => {
    const { events, frameWindow, deliver } = loadEmbed();
    deliver(CLOUD, frameWindow, { ...goodStatus, status: { ...goodStatus.status, peerId: 'ab'.repeat(20), secret: 'x' } });
    expect(Object.keys(events[0]?.detail as object).sort()).toEqual(
      ['cloud', 'cpuSeconds', 'links', 'optedIn', 'pausedBecause', 'state', 'storageBytes', 'tasksRun'],
    );
  });

  it("asks its frame for status only at the cloud's origin, and offers nothing but that", () => {
    const { posted, load, script } = loadEmbed();
    load();
    (script.nephele as { requestStatus(): void }).requestStatus();
    expect(posted).toEqual([
      { message: { source: 'nephele-host', v: 1, type: 'get-status' }, targetOrigin: CLOUD },
      { message: { source: 'nephele-host', v: 1, type: 'get-status' }, targetOrigin: CLOUD },
    ]);
    expect(Object.keys(script.nephele as object)).toEqual(['requestStatus']);
  });
});
