/**
 * `npm start` / `npm run serve`: runs the signaling server and serves the built app from dist/.
 *
 * Environment: PORT (default 8080), HOST (default 127.0.0.1; set 0.0.0.0 to accept other machines),
 * NEPHELE_CLOUDS (JSON {"name": {"secret": "..."}} of private clouds), NEPHELE_ICE_SERVERS (JSON array of
 * RTCIceServer objects handed to pages through /config.json).
 */
import { z } from 'zod';
import { startSignalingServer } from './server.ts';

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
  const server = await startSignalingServer({
    port,
    host: process.env.HOST ?? '127.0.0.1',
    staticDir: 'dist',
    clouds: fromEnv('NEPHELE_CLOUDS', cloudsSchema, {}),
    iceServers: fromEnv('NEPHELE_ICE_SERVERS', iceServersSchema, []),
  });
  console.log(`Nephele is running at http://localhost:${server.port}/`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
