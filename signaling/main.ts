/**
 * `npm start` / `npm run serve`: runs the signaling server and serves the built app from dist/.
 *
 * Environment: PORT (default 8080), HOST (default 127.0.0.1; set 0.0.0.0 to accept other machines),
 * NEPHELE_CLOUDS (JSON {"name": {"secret": "..."}} of private clouds), NEPHELE_ICE_SERVERS (JSON array of
 * RTCIceServer objects handed to pages through /config.json), NEPHELE_PARTNERS (origins allowed to frame the
 * lending widget, separated by spaces or commas), PARTNER_PORT (the demo partner site, a second origin that embeds
 * the widget; default PORT+1, `off` for none — its origin joins the allow-list).
 */
import { z } from 'zod';
import { startSignalingServer } from './server.ts';
import { parsePartnerOrigins } from './static-files.ts';
import { startPartnerSite, type PartnerSite } from '../partner/partner-site.ts';

const cloudsSchema = z.record(
  z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a cloud name is 1-63 of a-z, 0-9 and -'),
  z.object({ secret: z.string().min(1, 'a private cloud needs a non-empty secret') }),
);
const iceServersSchema = z.array(
  z.object({ urls: z.union([z.string(), z.array(z.string())]), username: z.string().optional(), credential: z.string().optional() }).passthrough(),
);

function fromEnv<T>(name: string, schema: z.ZodType<T>, fallback: T): T {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`E_BAD_CONFIG: ${name} is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`E_BAD_CONFIG: ${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`E_BAD_CONFIG: PORT ${process.env.PORT} is not a port number`);
  const host = process.env.HOST ?? '127.0.0.1';
  const partners = parsePartnerOrigins(process.env.NEPHELE_PARTNERS ?? '');
  const partnerPortRaw = process.env.PARTNER_PORT ?? (port === 0 ? '0' : String(port + 1));
  let cloudPort = port;
  let partnerSite: PartnerSite | null = null;
  if (partnerPortRaw !== 'off') {
    const partnerPort = Number(partnerPortRaw);
    if (!Number.isInteger(partnerPort) || partnerPort < 0 || partnerPort > 65535) throw new Error(`E_BAD_CONFIG: PARTNER_PORT ${partnerPortRaw} is not a port number (or off)`);
    partnerSite = await startPartnerSite({ port: partnerPort, host, cloudOrigin: (hostname) => `http://${hostname}:${cloudPort}` });
    for (const name of ['localhost', '127.0.0.1']) {
      const origin = `http://${name}:${partnerSite.port}`;
      if (!partners.includes(origin)) partners.push(origin);
    }
  }
  const server = await startSignalingServer({
    port,
    host,
    partners,
    staticDir: 'dist',
    clouds: fromEnv('NEPHELE_CLOUDS', cloudsSchema, {}),
    iceServers: fromEnv('NEPHELE_ICE_SERVERS', iceServersSchema, []),
  });
  cloudPort = server.port;
  console.log(`Nephele is running at http://localhost:${server.port}/`);
  if (partnerSite) console.log(`A demo partner site embedding the lending widget: http://localhost:${partnerSite.port}/`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void Promise.all([server.close(), partnerSite?.close()]).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
