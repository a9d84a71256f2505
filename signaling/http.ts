/**
 * The plain-HTTP side of the signaling server: /healthz, /metrics (Prometheus), /config.json (ICE servers for
 * the page) and the built app's static files. Every response carries the security headers (the lending widget's
 * page may be framed by the partner origins, nothing else by anyone).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SECURITY_HEADERS, securityHeadersFor, sendText, serveStatic } from './static-files.ts';

export interface HttpRoutesOptions {
  readonly staticDir: string | null;
  readonly iceServers: readonly unknown[];
  readonly renderMetrics: () => string;
  /** Origins allowed to frame the lending widget (/widget.html); validated by parsePartnerOrigins. */
  readonly partners?: readonly string[];
}

export function createHttpHandler(options: HttpRoutesOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const configJson = JSON.stringify({ iceServers: options.iceServers });
  const partners = options.partners ?? [];
  return (req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      return sendText(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return sendText(res, 400, 'text/plain; charset=utf-8', 'bad request\n', head);
    }
    res.setHeader('Content-Security-Policy', securityHeadersFor(pathname, partners)['Content-Security-Policy'] ?? '');
    // A raw request line may carry `..`, which URL() would silently normalise away; refuse it outright.
    if (/(^|\/)\.\.?(\/|$)/.test((req.url ?? '').split('?')[0] ?? '')) return sendText(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    switch (pathname) {
      case '/healthz':
        res.setHeader('Cache-Control', 'no-store');
        return sendText(res, 200, 'application/json; charset=utf-8', '{"ok":true}', head);
      case '/metrics':
        res.setHeader('Cache-Control', 'no-store');
        return sendText(res, 200, 'text/plain; version=0.0.4; charset=utf-8', options.renderMetrics(), head);
      case '/config.json':
        res.setHeader('Cache-Control', 'no-cache');
        return sendText(res, 200, 'application/json; charset=utf-8', configJson, head);
    }
    if (options.staticDir === null) return sendText(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    void serveStatic(options.staticDir, pathname, req, res);
  };
}
