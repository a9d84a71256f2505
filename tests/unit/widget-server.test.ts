/**
 * The server side of the lending widget: the per-path CSP (only /widget.html may be framed, and only by the
 * allow-listed partner origins), partner-origin configuration, and the demo partner site (a second origin whose
 * page carries the one script tag pointing at the cloud). Real servers on port 0.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSignalingServer, type SignalingServer } from '../../signaling/server.ts';
import { parsePartnerOrigins, securityHeadersFor, SECURITY_HEADERS } from '../../signaling/static-files.ts';
import { renderPartnerPage, requestHostname, startPartnerSite, type PartnerSite } from '../../partner/partner-site.ts';

const PARTNER = 'https://shop.example';
const OTHER_PARTNER = 'http://127.0.0.1:9999';

function csp(headers: Headers): string {
  return headers.get('content-security-policy') ?? '';
}

describe('securityHeadersFor', () => {
  it('lets only the widget page be framed, and only by the partners', () => {
    const widget = securityHeadersFor('/widget.html', [PARTNER, OTHER_PARTNER])['Content-Security-Policy'] ?? '';
    expect(widget).toContain(`frame-ancestors ${PARTNER} ${OTHER_PARTNER}`);
    expect(widget).not.toContain("frame-ancestors 'none'");
    expect(widget).toContain("default-src 'self'");
    for (const path of ['/', '/index.html', '/embed.js', '/config.json', '/widget.html/', '/WIDGET.html']) {
      expect(securityHeadersFor(path, [PARTNER])['Content-Security-Policy']).toContain("frame-ancestors 'none'");
    }
  });

  it('keeps the widget unframeable when no partner is listed', () => {
    expect(securityHeadersFor('/widget.html', [])).toBe(SECURITY_HEADERS);
  });
});

describe('parsePartnerOrigins', () => {
  it('accepts origins separated by spaces or commas, dropping duplicates and a trailing slash', () => {
    expect(parsePartnerOrigins(' https://a.example, http://localhost:8081  https://a.example/\n')).toEqual([
      'https://a.example', 'http://localhost:8081',
    ]);
    expect(parsePartnerOrigins('')).toEqual([]);
  });

  it.each([
    '*', 'https://*.example', 'https://a.example/path', "https://a.example;script-src 'unsafe-inline'", 'ftp://a.example',
    'a.example', "'self'", 'https://a.example?x=1',
  ])('refuses %s with E_BAD_CONFIG', (entry) => {
    expect(() => parsePartnerOrigins(entry)).toThrow(/E_BAD_CONFIG/);
  });
});

describe('the server sends the per-path CSP', () => {
  let dir: string;
  let server: SignalingServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nephele-widget-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><p>portal</p>');
    await writeFile(join(dir, 'widget.html'), '<!doctype html><p>widget</p>');
    await writeFile(join(dir, 'embed.js'), '/* loader */');
    server = await startSignalingServer({ port: 0, staticDir: dir, partners: [PARTNER, 'http://localhost:8081'] });
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('frame-ancestors lists the partners on /widget.html (also for a query string)', async () => {
    for (const path of ['/widget.html', '/widget.html?cloud=public&partner=https%3A%2F%2Fshop.example']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(csp(res.headers)).toContain(`frame-ancestors ${PARTNER} http://localhost:8081`);
    }
  });

  it("keeps frame-ancestors 'none' everywhere else, including errors", async () => {
    for (const path of ['/', '/index.html', '/embed.js', '/config.json', '/healthz', '/missing.html']) {
      const res = await fetch(`${server.url}${path}`);
      expect(csp(res.headers), path).toContain("frame-ancestors 'none'");
    }
    const post = await fetch(`${server.url}/widget.html`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(csp(post.headers)).toContain("frame-ancestors 'none'");
  });

  it('refuses a bad partner option before listening', async () => {
    await expect(startSignalingServer({ port: 0, staticDir: null, partners: ['*'] })).rejects.toThrow(/E_BAD_CONFIG/);
  });
});

describe('demo partner site', () => {
  let site: PartnerSite;

  beforeAll(async () => {
    site = await startPartnerSite({ port: 0, cloudOrigin: (hostname) => `http://${hostname}:4242` });
  });

  afterAll(async () => {
    await site?.close();
  });

  it('serves the page with one script tag pointing at the cloud seen under the same hostname', async () => {
    const res = await fetch(`${site.url}/?cloud=demo`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const tags = html.match(/<script src="[^"]*\/embed\.js"[^>]*>/g) ?? [];
    expect(tags).toHaveLength(1);
    expect(tags[0]).toContain('src="http://127.0.0.1:4242/embed.js"');
    expect(tags[0]).toContain('data-cloud="demo"');
    expect(html).not.toContain('{{');
  });

  it('serves nothing else', async () => {
    expect((await fetch(`${site.url}/embed.js`)).status).toBe(404);
    expect((await fetch(`${site.url}/partner-site.ts`)).status).toBe(404);
  });

  it('never lets a request put markup into the page', () => {
    const html = renderPartnerPage('http://127.0.0.1:4242', '"><script>alert(1)</script>');
    expect(html).toContain('data-cloud="public"');
    expect(html).not.toContain('alert(1)');
    expect(requestHostname('localhost:8081')).toBe('localhost');
    expect(requestHostname('[::1]:8081')).toBe('[::1]');
    expect(requestHostname('evil"host')).toBe('127.0.0.1');
    expect(requestHostname(undefined)).toBe('127.0.0.1');
  });
});
