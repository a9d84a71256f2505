/**
 * The demo partner site: a second HTTP server (a second origin) serving partner/index.html, a plain page with
 * the widget's one script tag pointing at the cloud. `npm start` runs it next to the cloud (signaling/main.ts)
 * and puts its origin on the widget's frame-ancestors allow-list; the widget browser test uses it too.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PartnerSiteOptions {
  readonly port: number;
  readonly host?: string;
  /** The cloud's origin for a request that reached this site under `hostname` (so localhost stays localhost). */
  readonly cloudOrigin: (hostname: string) => string;
}

export interface PartnerSite {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const TEMPLATE = readFileSync(new URL('./index.html', import.meta.url), 'utf8');
const CLOUD_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The partner page for a cloud origin and cloud name (both validated before they reach the HTML). */
export function renderPartnerPage(cloudOrigin: string, cloud: string): string {
  const origin = new URL(cloudOrigin).origin;
  const name = CLOUD_NAME.test(cloud) ? cloud : 'public';
  return TEMPLATE.replaceAll('{{CLOUD_ORIGIN}}', escapeHtml(origin)).replaceAll('{{CLOUD}}', escapeHtml(name));
}

/** The hostname the browser used (from Host), if it is a plain hostname or IP literal; else 127.0.0.1. */
export function requestHostname(hostHeader: string | undefined): string {
  try {
    const hostname = new URL(`http://${hostHeader ?? ''}`).hostname;
    return /^([a-z0-9.-]+|\[[0-9a-f:.]+\])$/i.test(hostname) ? hostname : '127.0.0.1';
  } catch {
    return '127.0.0.1';
  }
}

function handle(options: PartnerSiteOptions, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'strict-origin-when-cross-origin');
  if ((req.method !== 'GET' && req.method !== 'HEAD') || (url.pathname !== '/' && url.pathname !== '/index.html')) {
    res.statusCode = req.method === 'GET' || req.method === 'HEAD' ? 404 : 405;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    return void res.end('not found\n');
  }
  const body = renderPartnerPage(options.cloudOrigin(requestHostname(req.headers.host)), url.searchParams.get('cloud') ?? 'public');
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

export async function startPartnerSite(options: PartnerSiteOptions): Promise<PartnerSite> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => handle(options, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
