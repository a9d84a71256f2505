/**
 * Real-browser test harness: Debian's Chromium through playwright-core, one peer per browser context (each
 * context has its own storage, SharedWorker and identity), the real signaling server serving the built app.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startSignalingServer } from '../../signaling/server.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags measured in BROWSER.md: quiet, loopback WebRTC allowed. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export type CloudServer = Awaited<ReturnType<typeof startSignalingServer>>;

export async function startCloudServer(clouds: Record<string, { secret: string }> = {}): Promise<CloudServer> {
  return startSignalingServer({ port: 0, host: '127.0.0.1', staticDir: 'dist', clouds, maxConnectionsPerAddress: 256 });
}

export interface PeerTab {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly peerId: string;
}

/** A fresh browser context = a fresh peer. Media permission makes Chromium offer 127.0.0.1 candidates. */
export async function newPeerContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ permissions: ['camera', 'microphone'] });
}

export async function openTab(context: BrowserContext, url: string): Promise<PeerTab> {
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(url);
  const peerId = page.getByTestId('peer-id');
  await waitUntil(async () => /^[0-9a-f]{40}$/.test((await peerId.textContent()) ?? ''), 20_000, 'peer id shown');
  return { context, page, peerId: ((await peerId.textContent()) ?? '').trim() };
}

export async function openPeer(browser: Browser, url: string): Promise<PeerTab> {
  return openTab(await newPeerContext(browser), url);
}

export async function numberOf(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).first().textContent()) ?? '';
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : NaN;
}

export async function connectedPeers(page: Page): Promise<string[]> {
  return page.getByTestId('connection').evaluateAll((els) => els.map((e) => e.getAttribute('data-peer') ?? ''));
}

export async function viewPeers(page: Page): Promise<string[]> {
  return page.getByTestId('view-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-peer') ?? ''));
}

/**
 * For a test file whose tests share one cloud server and one Chromium: starts both before its tests and stops
 * them after. Read `server` and `browser` inside tests (they are set once beforeAll has run).
 */
export function useCloudAndBrowser(): { readonly server: CloudServer; readonly browser: Browser } {
  const shared = {} as { server: CloudServer; browser: Browser };
  beforeAll(async () => {
    shared.server = await startCloudServer();
    shared.browser = await launchChromium();
  });
  afterAll(async () => {
    await shared.browser?.close();
    await shared.server?.close();
  });
  return shared;
}

/**
 * Polls a condition; fails with the description if it does not hold within the timeout. `explain` adds what the
 * page showed at that moment to the error, so a failure on a CI machine can be understood from its log.
 */
export async function waitUntil(
  check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, explain?: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* the page may be mid-render; try again */
    }
    if (Date.now() > deadline) {
      const detail = explain ? await explain().catch((err: unknown) => `(no detail: ${String(err)})`) : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}${detail ? `\n${detail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A page's visible state for a failure message: the storage/ring summary and the newest event-log lines. */
export async function pageDiagnosis(page: Page, logLines = 40, logFilter?: RegExp): Promise<string> {
  // Evaluated as a string: tsx (the benches) compiles a function handed to page.evaluate with helpers (`__name`)
  // the page does not have.
  const script = `(() => {
    const text = (id) => (document.querySelector('[data-testid="' + id + '"]')?.textContent ?? '(none)').trim();
    const ring = (document.querySelector('[data-testid="storage-successors"]')?.parentElement?.textContent ?? '').replace(/\\s+/g, ' ').trim();
    const filter = ${logFilter ? `new RegExp(${JSON.stringify(logFilter.source)}, ${JSON.stringify(logFilter.flags)})` : 'null'};
    const log = [...document.querySelectorAll('[data-testid="event-log"] li')].map((li) => (li.textContent ?? '').trim())
      .filter((line) => filter === null || filter.test(line)).slice(0, ${Math.max(0, Math.floor(logLines))});
    return ['peer ' + text('peer-id'), 'connections ' + text('connection-count'), 'ring ' + (ring || '(none)'), ...log].join('\\n');
  })()`;
  return (await page.evaluate(script)) as string;
}

export interface NodePeerProcess {
  readonly peerId: string;
  readonly child: ChildProcess;
  readonly lines: string[];
  stop(): Promise<void>;
}

/** Starts `npm run peer` (the headless Node peer) against the server and waits for its peer id. */
export async function spawnNodePeer(wsUrl: string, identityPath: string, extra: string[] = []): Promise<NodePeerProcess> {
  const child = spawn('npx', ['tsx', 'src/node/peer-main.ts', '--url', wsUrl, '--identity', identityPath, ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group, so stop() ends npx, tsx and the peer together.
    detached: true,
  });
  const lines: string[] = [];
  const peerId = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node peer did not start within 30 s')), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      try {
        const msg = JSON.parse(line) as { event?: string; peerId?: string };
        if (msg.event === 'started' && msg.peerId) {
          clearTimeout(timer);
          resolve(msg.peerId);
        }
      } catch {
        /* not a status line */
      }
    });
    child.on('exit', (code) => reject(new Error(`node peer exited early with ${code}`)));
  });
  return {
    peerId, child, lines,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      const signalGroup = (signal: NodeJS.Signals): void => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          /* already gone */
        }
      };
      signalGroup('SIGTERM');
      setTimeout(() => signalGroup('SIGKILL'), 5000).unref();
    }),
  };
}
