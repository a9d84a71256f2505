/**
 * Dev-only check of the portal (not bundled; run `npx tsx src/ui/dev-check.ts`):
 * 1. compiles every component with the Svelte compiler and fails on any error or warning (a11y included);
 * 2. server-renders the portal through Vite with a sample snapshot and fails unless every data-testid the
 *    browser tests rely on is present with the expected text.
 * It exists because svelte-check is not installed; the browser tests remain the real check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readable } from 'svelte/store';
import { compile } from 'svelte/compiler';
import { createServer } from 'vite';
import type { Component } from 'svelte';
import type { NodeSnapshot } from '../runtime/api.ts';
import type { PortalModel } from './model.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const problems: string[] = [];

const components = readdirSync(here, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.svelte'));
for (const file of components) {
  try {
    const { warnings } = compile(readFileSync(join(here, file), 'utf8'), { filename: file });
    for (const w of warnings) problems.push(`${file}: warning ${w.code}: ${w.message}`);
  } catch (err) {
    problems.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const a = 'a'.repeat(40);
const b = 'b'.repeat(40);
const c = 'c'.repeat(40);
const sample: NodeSnapshot = {
  peerId: a, cloud: 'public', startedAt: 1_000, now: 61_000, signaling: 'joined', hasConnectionHolder: true, tabs: 2,
  connections: [{ peer: b, since: 2_000, framesIn: 5, framesOut: 7 }],
  view: [{ peer: b, age: 1 }, { peer: c, age: 3 }],
  estimatedSize: 3.2,
  jobs: [
    { id: 'j-old', name: 'hello.wasm', submittedAt: 10_000, state: 'done', host: b, exitCode: 0, stdout: 'hi <there>\n',
      stderr: '', error: null, durationMs: 420, attempts: 1 },
    { id: 'j-new', name: 'loop.wasm', submittedAt: 20_000, state: 'failed', host: c, exitCode: null, stdout: '',
      stderr: '', error: 'E_TIME_LIMIT: over 2000 ms', durationMs: 2_000, attempts: 1 },
  ],
  hosting: [{ jobId: 'j-x', forPeer: c, name: 'hello.wasm', startedAt: 50_000 }],
  log: [{ seq: 1, at: 60_000, level: 'warn', text: 'signaling: refused E_BAD_PROOF' }],
  rejectedMessages: 4,
  services: {},
};

const server = await createServer({ root, logLevel: 'error', server: { middlewareMode: true }, appType: 'custom' });
try {
  const { default: Portal } = (await server.ssrLoadModule('/src/ui/Portal.svelte')) as { default: Component<{ model: PortalModel }> };
  // Loaded through Vite too, so the renderer and the compiled component share one copy of Svelte's internals.
  const { render } = (await server.ssrLoadModule('svelte/server')) as typeof import('svelte/server');
  const model: PortalModel = { snapshot: readable(sample), submitJob: () => Promise.reject(new Error('E_UNUSED: check')), command: () => Promise.reject(new Error('E_UNUSED: check')) };
  const { body } = render(Portal, { props: { model } });
  const expect = (what: string, pattern: RegExp): void => {
    if (!pattern.test(body)) problems.push(`render: ${what} (${pattern})`);
  };
  expect('peer id is exactly the id', new RegExp(`data-testid="peer-id"[^>]*>${a}<`));
  expect('signaling state text', /data-testid="signaling-state"[^>]*>joined</);
  expect('connection count', /data-testid="connection-count"[^>]*>1</);
  expect('view size', /data-testid="view-size"[^>]*>2</);
  expect('estimated size', /data-testid="estimated-size"[^>]*>3</);
  expect('tab count', /data-testid="tab-count"[^>]*>2</);
  expect('connection row', new RegExp(`data-testid="connection" data-peer="${b}"`));
  expect('view entries', new RegExp(`data-testid="view-entry" data-peer="${c}"`));
  expect('newest job first', /data-job-id="j-new"[\s\S]*data-job-id="j-old"/);
  expect('job state', /data-testid="job" data-job-id="j-old" data-state="done"/);
  expect('job host', new RegExp(`data-testid="job-host"[^>]*>${b}<`));
  expect('job exit code', /data-testid="job-exit-code"[^>]*>0</);
  expect('escaped stdout', /data-testid="job-stdout"[^>]*>hi &lt;there>/);
  expect('job error', /data-testid="job-error"[^>]*>E_TIME_LIMIT/);
  expect('hosted task', /data-testid="hosted-task"/);
  expect('event log text', /data-testid="event-log"[\s\S]*E_BAD_PROOF/);
  for (const id of ['example-select', 'wasm-file', 'job-args', 'job-stdin', 'job-time-limit', 'job-memory-limit', 'submit-job']) {
    expect(`form control ${id}`, new RegExp(`data-testid="${id}"`));
  }
  expect('time limit defaults to 30 s', /data-testid="job-time-limit"[^>]*value="30"/);
} finally {
  await server.close();
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('portal check passed: components compile cleanly and render every test id');
