/**
 * Reaches a page's node the way a tab does, for browser tests that drive a service directly: a fresh comlink port
 * to the profile's SharedWorker (speaking comlink's wire messages by hand, since the test cannot import comlink
 * into the page), calling a TabSession method and returning its value or its error message.
 */
import { readdirSync } from 'node:fs';
import type { Page } from 'playwright-core';

export type PortReply = { ok: true; value: unknown } | { ok: false; error: string };

const workerScript = (): string => `/assets/${readdirSync('dist/assets').find((f) => /^node\.sharedworker-.*\.js$/.test(f))}`;

/** Calls a TabSession method (`command` or `snapshot`) on the node of `cloud` in this page's profile. */
export async function callNode(page: Page, cloud: string, method: 'command' | 'snapshot', args: unknown[]): Promise<PortReply> {
  return page.evaluate(async ({ script, cloud, method, args }) => {
    const port = new SharedWorker(new URL(script, location.href), { type: 'module', name: `nephele:${cloud}` }).port;
    const id = crypto.randomUUID();
    const data = await new Promise<{ type: string; name?: string; value: unknown }>((resolve) => {
      port.onmessage = (e: MessageEvent) => {
        if ((e.data as { id?: string }).id === id) resolve(e.data);
      };
      port.postMessage({ id, type: 'APPLY', path: [method], argumentList: args.map((value) => ({ type: 'RAW', value })) });
    });
    port.close();
    if (data.type === 'HANDLER' && data.name === 'throw') {
      const thrown = data.value as { isError: boolean; value: { message?: string } | unknown };
      return { ok: false as const, error: thrown.isError ? String((thrown.value as { message?: string }).message) : String(thrown.value) };
    }
    return { ok: true as const, value: data.value };
  }, { script: workerScript(), cloud, method, args });
}

/** A service command through the node port; rejects with the node's error message. */
export async function nodeCommand(page: Page, cloud: string, service: string, name: string, args: unknown): Promise<unknown> {
  const reply = await callNode(page, cloud, 'command', [service, name, args]);
  if (!reply.ok) throw new Error(reply.error);
  return reply.value;
}

/** The services' parts of the node's snapshot. */
export async function nodeServices(page: Page, cloud: string): Promise<Record<string, unknown>> {
  const reply = await callNode(page, cloud, 'snapshot', []);
  if (!reply.ok) throw new Error(reply.error);
  return (reply.value as { services: Record<string, unknown> }).services;
}
