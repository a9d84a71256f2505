/**
 * The CLI's argument grammar (src/node/cli-args.ts): each verb parses into its typed command with defaults, the
 * query flags map onto the slice-query kinds, and every mistake is an E_USAGE rejection naming the problem.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_URL, parseCliArgs, type CliInvocation } from '../../src/node/cli-args.ts';

function ok(argv: string[]): CliInvocation {
  const r = parseCliArgs(argv);
  if (!r.ok) throw new Error(`expected ${argv.join(' ')} to parse, got ${r.code}: ${r.reason}`);
  return r.value;
}

function usage(argv: string[]): string {
  const r = parseCliArgs(argv);
  if (r.ok) throw new Error(`expected ${argv.join(' ')} to be refused, got ${JSON.stringify(r.value)}`);
  expect(r.code).toBe('E_USAGE');
  return r.reason;
}

describe('CLI arguments', () => {
  it('parses the brief example: run-instances with the top 10% by cpuScore', () => {
    const { globals, command } = ok(['run-instances', '--url', 'ws://127.0.0.1:8080/signal', '--cloud', 'public', '--slice', 'fast', '--top', '10', '--attribute', 'cpuScore']);
    expect(globals).toEqual({ url: 'ws://127.0.0.1:8080/signal', cloud: 'public', secret: null, identity: null, linkTimeoutMs: 30_000 });
    expect(command).toEqual({ verb: 'run-instances', slice: 'fast', query: { kind: 'top-fraction', p: 0.1, attribute: 'cpuScore' } });
  });

  it('maps --fraction and --most, with requirements and a size cap', () => {
    expect(ok(['run-instances', '--slice', 'any', '--fraction', '0.25']).command).toEqual({ verb: 'run-instances', slice: 'any', query: { kind: 'fraction', p: 0.25 } });
    expect(ok(['run-instances', '--slice', 'big', '--most', '3', '--attribute', 'memoryMB', '--min-cores', '4', '--min-gpu-mb', '2048', '--n', '2']).command).toEqual({
      verb: 'run-instances', slice: 'big', n: 2,
      query: { kind: 'top-count', n: 3, attribute: 'memoryMB', requirements: { minCores: 4, minGpuMemoryMB: 2048 } },
    });
  });

  it('uses defaults for the globals and takes --secret, --identity, --link-timeout', () => {
    expect(ok(['describe-instances', '--slice', 's']).globals).toEqual({ url: DEFAULT_URL, cloud: 'public', secret: null, identity: null, linkTimeoutMs: 30_000 });
    expect(ok(['release-slice', '--slice', 's', '--secret', 'pw', '--identity', '/tmp/id.json', '--link-timeout', '2.5', '--url', 'wss://x.example/signal']).globals)
      .toEqual({ url: 'wss://x.example/signal', cloud: 'public', secret: 'pw', identity: '/tmp/id.json', linkTimeoutMs: 2500 });
  });

  it('parses the other instance verbs', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    expect(ok(['add-instances', '--slice', 's', '--n', '5']).command).toEqual({ verb: 'add-instances', slice: 's', n: 5 });
    expect(ok(['terminate-instances', '--slice', 's', '--peers', `${a}, ${b}`]).command).toEqual({ verb: 'terminate-instances', slice: 's', peers: [a, b] });
    expect(ok(['set-site', '--site', 'lab-3']).command).toEqual({ verb: 'set-site', site: 'lab-3' });
    expect(ok(['monitor-instances']).command).toEqual({ verb: 'monitor-instances', intervalMs: 1000, count: null });
    expect(ok(['monitor-instances', '--interval-ms', '250', '--count', '3']).command).toEqual({ verb: 'monitor-instances', intervalMs: 250, count: 3 });
  });

  it('parses put, get -o and submit with a task template', () => {
    expect(ok(['put', 'photo.jpg']).command).toEqual({ verb: 'put', file: 'photo.jpg' });
    const link = `nephele://${'c'.repeat(64)}#k=abc`;
    expect(ok(['get', link, '-o', 'out.bin']).command).toEqual({ verb: 'get', link, output: 'out.bin' });
    expect(ok(['submit', 'hello.wasm', '--tasks', '3', '--args', 'run "item {i}" --fast', '--redundancy', '3', '--wait']).command).toEqual({
      verb: 'submit', module: 'hello.wasm', stdin: '', timeLimitMs: 30_000, redundancy: { n: 3, k: 2 }, wait: true,
      taskArgs: [['run', 'item 0', '--fast'], ['run', 'item 1', '--fast'], ['run', 'item 2', '--fast']],
    });
    expect(ok(['submit', 'm.wasm', '--tasks', '1', '--time-limit', '0.5', '--stdin', 'hi']).command).toMatchObject({ taskArgs: [['0']], timeLimitMs: 500, stdin: 'hi', redundancy: { n: 1, k: 1 }, wait: false });
  });

  it('passes submit --slice through, and only a valid slice name', () => {
    expect(ok(['submit', 'm.wasm', '--tasks', '2', '--slice', 'fast-4']).command).toMatchObject({ verb: 'submit', slice: 'fast-4', taskArgs: [['0'], ['1']] });
    expect(ok(['submit', 'm.wasm', '--tasks', '1']).command).not.toHaveProperty('slice');
    expect(usage(['submit', 'm.wasm', '--tasks', '1', '--slice', 'no spaces'])).toMatch(/--slice must be/);
    expect(usage(['submit', 'm.wasm', '--tasks', '1', '--slice', ''])).toMatch(/--slice/);
  });

  it('refuses unknown or missing commands and options of other verbs', () => {
    expect(usage([])).toMatch(/command is required/);
    expect(usage(['launch'])).toMatch(/unknown command "launch"/);
    expect(usage(['describe-instances', '--slice', 's', '--top', '10'])).toMatch(/describe-instances takes no --top/);
    expect(usage(['describe-instances', '--slice', 's', '--bogus', '1'])).toMatch(/bogus/);
    expect(usage(['describe-instances'])).toMatch(/--slice is required/);
    expect(usage(['describe-instances', '--slice', 's', 'extra'])).toMatch(/no positional/);
  });

  it('refuses a query that is not exactly one kind, or lacks its attribute', () => {
    expect(usage(['run-instances', '--slice', 's'])).toMatch(/exactly one of/);
    expect(usage(['run-instances', '--slice', 's', '--top', '10', '--fraction', '0.5'])).toMatch(/exactly one of/);
    expect(usage(['run-instances', '--slice', 's', '--top', '10'])).toMatch(/--top needs --attribute/);
    expect(usage(['run-instances', '--slice', 's', '--fraction', '0.5', '--attribute', 'cores'])).toMatch(/takes no --attribute/);
  });

  it('refuses numbers out of range and malformed values', () => {
    expect(usage(['run-instances', '--slice', 's', '--fraction', '0'])).toMatch(/--fraction must be a number above 0 to 1/);
    expect(usage(['run-instances', '--slice', 's', '--fraction', '1.5'])).toMatch(/--fraction/);
    expect(usage(['run-instances', '--slice', 's', '--top', '101', '--attribute', 'cores'])).toMatch(/--top/);
    expect(usage(['run-instances', '--slice', 's', '--most', '2.5', '--attribute', 'cores'])).toMatch(/--most must be a whole number/);
    expect(usage(['add-instances', '--slice', 's', '--n', 'many'])).toMatch(/--n must be a whole number/);
    expect(usage(['add-instances', '--slice', 'bad name', '--n', '1'])).toMatch(/--slice must be/);
    expect(usage(['terminate-instances', '--slice', 's', '--peers', 'xyz'])).toMatch(/not a peer id/);
    expect(usage(['describe-instances', '--slice', 's', '--url', 'http://x'])).toMatch(/--url must be a ws/);
    expect(usage(['get', 'https://example.com/f', '-o', 'f'])).toMatch(/nephele:\/\/ link/);
    expect(usage(['get', `nephele://${'c'.repeat(64)}#k=abc`])).toMatch(/--output/);
    expect(usage(['submit', 'm.wasm'])).toMatch(/--tasks is required/);
    expect(usage(['submit', 'm.wasm', '--tasks', '2', '--redundancy', '3', '--quorum', '1'])).toMatch(/majority/);
    expect(usage(['submit', 'm.wasm', '--tasks', '1', '--args', '"open'])).toMatch(/--args/);
    expect(usage(['put'])).toMatch(/exactly 1 argument/);
  });
});
