/**
 * Static files of the built app (vite's dist/) with the right content types, and the security headers every
 * HTTP response of the server carries. Paths are decoded once and must stay inside the root after resolving
 * symlinks; dotfiles are never served.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    "connect-src 'self' ws: wss:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** Pages partner sites may frame (the lending widget); every other response keeps `frame-ancestors 'none'`. */
export const FRAMEABLE_PATHS: ReadonlySet<string> = new Set(['/widget.html']);

/**
 * The security headers for a response to `pathname`: the lending widget may be framed by the allow-listed
 * partner origins (none listed: by nobody), everything else by nobody.
 */
export function securityHeadersFor(pathname: string, partners: readonly string[]): Readonly<Record<string, string>> {
  if (!FRAMEABLE_PATHS.has(pathname) || partners.length === 0) return SECURITY_HEADERS;
  const csp = (SECURITY_HEADERS['Content-Security-Policy'] ?? '').replace("frame-ancestors 'none'", `frame-ancestors ${partners.join(' ')}`);
  return { ...SECURITY_HEADERS, 'Content-Security-Policy': csp };
}

/**
 * Partner origins from configuration (NEPHELE_PARTNERS or the `partners` option): separated by spaces or commas,
 * each exactly an http(s) origin (`https://shop.example`, no path, no wildcard), since it goes verbatim into a
 * CSP header. Throws E_BAD_CONFIG naming the first bad entry.
 */
export function parsePartnerOrigins(raw: string | readonly string[]): string[] {
  const entries = (typeof raw === 'string' ? raw.split(/[\s,]+/) : [...raw]).map((e) => e.trim()).filter((e) => e !== '');
  const origins: string[] = [];
  for (const entry of entries) {
    let origin: string | null = null;
    try {
      const url = new URL(entry);
      const plainHost = /^([a-z0-9.-]+|\[[0-9a-f:.]+\])$/.test(url.hostname);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && plainHost && url.origin === entry.replace(/\/$/, '')) origin = url.origin;
    } catch {
      /* reported below */
    }
    if (origin === null) throw new Error(`E_BAD_CONFIG: partner "${entry}" is not an http(s) origin like https://shop.example`);
    if (!origins.includes(origin)) origins.push(origin);
  }
  return origins;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

export function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file a URL path names under `root`, or null when it is not a servable path: undecodable, a NUL byte, a
 * dot segment or dotfile, or anything resolving outside the root. `/` and `dir/` name their index.html.
 */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.split('/').some((segment) => segment.startsWith('.'))) return null;
  if (decoded.endsWith('/')) decoded += 'index.html';
  const base = resolve(root);
  const full = resolve(base, '.' + decoded);
  return full.startsWith(base + sep) ? full : null;
}

export function sendText(res: ServerResponse, status: number, contentType: string, body: string, head = false): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(head ? undefined : body);
}

/** Serves `urlPath` from `root`, or a 404. Never throws. */
export async function serveStatic(root: string, urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const head = req.method === 'HEAD';
  const notFound = (): void => sendText(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
  let path = resolveStaticPath(root, urlPath);
  if (!path) return notFound();
  try {
    let info = await stat(path);
    if (info.isDirectory()) {
      path = resolve(path, 'index.html');
      info = await stat(path);
    }
    if (!info.isFile()) return notFound();
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(path)]);
    if (!realFile.startsWith(realRoot + sep)) return notFound();
    res.statusCode = 200;
    res.setHeader('Content-Type', contentTypeFor(path));
    res.setHeader('Content-Length', info.size);
    // vite puts content-hashed files under /assets/; everything else may change between deploys.
    res.setHeader('Cache-Control', urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (head) return void res.end();
    const stream = createReadStream(path);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  } catch {
    notFound();
  }
}
