/**
 * Argument parsing of the Nephele CLI (cli.ts), EC2-style verbs over a Node peer (MISSION.md §6, P2PCS scripts):
 *
 *   run-instances       --slice S (--fraction P | --top PCT --attribute A | --most N --attribute A)
 *                       [--min-cores C] [--min-memory-mb M] [--min-gpu-mb G] [--min-disk-mb D] [--n N]
 *   add-instances       --slice S --n N
 *   terminate-instances --slice S --peers ID[,ID…]
 *   describe-instances  --slice S
 *   release-slice       --slice S
 *   set-site            --site LABEL
 *   monitor-instances   [--interval-ms 1000] [--count K]      (JSON lines until Ctrl-C, or K lines)
 *   put FILE
 *   get LINK -o FILE
 *   submit MODULE.wasm  --tasks N [--args 'template {i}'] [--stdin TEXT] [--time-limit SECONDS]
 *                       [--redundancy N] [--quorum K] [--slice S] [--wait]      (--slice: run only on that slice's members)
 *
 * and, for every verb: --url ws://…/signal, --cloud NAME, --secret S, --identity FILE, --link-timeout SECONDS.
 * Pure: argv in, a typed invocation or an E_USAGE rejection out (tested in tests/unit/cli-args.test.ts).
 */
import { parseArgs } from 'node:util';
import { accept, reject, type Decoded } from '../core/errors.ts';
import type { CloudQuery } from '../runtime/services/cloud-types.ts';
import { splitArgs } from '../ui/split-args.ts';

export const CLI_USAGE = 'E_USAGE';

export interface CliGlobals {
  readonly url: string;
  readonly cloud: string;
  readonly secret: string | null;
  /** Identity file to keep a peer id across runs; null = a fresh identity each run. */
  readonly identity: string | null;
  readonly linkTimeoutMs: number;
}

export type CliCommand =
  | { readonly verb: 'run-instances'; readonly slice: string; readonly query: CloudQuery; readonly n?: number }
  | { readonly verb: 'add-instances'; readonly slice: string; readonly n: number }
  | { readonly verb: 'terminate-instances'; readonly slice: string; readonly peers: readonly string[] }
  | { readonly verb: 'describe-instances'; readonly slice: string }
  | { readonly verb: 'release-slice'; readonly slice: string }
  | { readonly verb: 'set-site'; readonly site: string }
  | { readonly verb: 'monitor-instances'; readonly intervalMs: number; readonly count: number | null }
  | { readonly verb: 'put'; readonly file: string }
  | { readonly verb: 'get'; readonly link: string; readonly output: string }
  | {
      readonly verb: 'submit';
      readonly module: string;
      /** One argv per task (the template with {i} replaced by the task index). */
      readonly taskArgs: readonly (readonly string[])[];
      readonly stdin: string;
      readonly timeLimitMs: number;
      readonly redundancy: { readonly n: number; readonly k: number };
      /** Run only on members of this allocated slice. */
      readonly slice?: string;
      readonly wait: boolean;
    };

export type CliVerb = CliCommand['verb'];

export interface CliInvocation {
  readonly globals: CliGlobals;
  readonly command: CliCommand;
}

const GLOBAL_OPTIONS = ['url', 'cloud', 'secret', 'identity', 'link-timeout'] as const;
const QUERY_OPTIONS = ['fraction', 'top', 'most', 'attribute', 'min-cores', 'min-memory-mb', 'min-gpu-mb', 'min-disk-mb'] as const;

/** The options each verb takes besides the global ones, and how many positionals. */
const VERBS: Record<CliVerb, { readonly options: readonly string[]; readonly positionals: number }> = {
  'run-instances': { options: ['slice', 'n', ...QUERY_OPTIONS], positionals: 0 },
  'add-instances': { options: ['slice', 'n'], positionals: 0 },
  'terminate-instances': { options: ['slice', 'peers'], positionals: 0 },
  'describe-instances': { options: ['slice'], positionals: 0 },
  'release-slice': { options: ['slice'], positionals: 0 },
  'set-site': { options: ['site'], positionals: 0 },
  'monitor-instances': { options: ['interval-ms', 'count'], positionals: 0 },
  put: { options: [], positionals: 1 },
  get: { options: ['output'], positionals: 1 },
  submit: { options: ['tasks', 'args', 'stdin', 'time-limit', 'redundancy', 'quorum', 'slice', 'wait'], positionals: 1 },
};

const ALL_OPTIONS = {
  url: { type: 'string' },
  cloud: { type: 'string' },
  secret: { type: 'string' },
  identity: { type: 'string' },
  'link-timeout': { type: 'string' },
  slice: { type: 'string' },
  n: { type: 'string' },
  fraction: { type: 'string' },
  top: { type: 'string' },
  most: { type: 'string' },
  attribute: { type: 'string' },
  'min-cores': { type: 'string' },
  'min-memory-mb': { type: 'string' },
  'min-gpu-mb': { type: 'string' },
  'min-disk-mb': { type: 'string' },
  peers: { type: 'string' },
  site: { type: 'string' },
  'interval-ms': { type: 'string' },
  count: { type: 'string' },
  output: { type: 'string', short: 'o' },
  tasks: { type: 'string' },
  args: { type: 'string' },
  stdin: { type: 'string' },
  'time-limit': { type: 'string' },
  redundancy: { type: 'string' },
  quorum: { type: 'string' },
  wait: { type: 'boolean' },
} as const;

type Values = Partial<Record<keyof typeof ALL_OPTIONS, string | boolean>>;

export const DEFAULT_URL = 'ws://127.0.0.1:8080/signal';
const PEER_ID = /^[0-9a-f]{40}$/;
/** As the cloud service checks it (cloud-messages.ts sliceName). */
const SLICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;
const MAX_TASKS = 10_000;

/** Thrown inside the parser only; parseCliArgs turns it into a rejection. */
class UsageError extends Error {}

function usage(message: string): never {
  throw new UsageError(message);
}

export function isCliVerb(word: string): word is CliVerb {
  return Object.hasOwn(VERBS, word);
}

export function parseCliArgs(argv: readonly string[]): Decoded<CliInvocation> {
  try {
    return accept(parse(argv));
  } catch (err) {
    if (err instanceof UsageError) return reject(CLI_USAGE, err.message);
    // node:util parseArgs reports unknown options and missing values with its own errors.
    return reject(CLI_USAGE, err instanceof Error ? err.message : String(err));
  }
}

function parse(argv: readonly string[]): CliInvocation {
  const [verb, ...rest] = argv;
  if (verb === undefined) usage(`a command is required: ${Object.keys(VERBS).join(', ')}`);
  if (!isCliVerb(verb)) usage(`unknown command "${verb}"; commands: ${Object.keys(VERBS).join(', ')}`);
  const spec = VERBS[verb];
  const { values, positionals } = parseArgs({ args: [...rest], options: ALL_OPTIONS, allowPositionals: true, strict: true });
  const v = values as Values;
  const allowed = new Set<string>([...GLOBAL_OPTIONS, ...spec.options]);
  for (const key of Object.keys(v)) if (!allowed.has(key)) usage(`${verb} takes no --${key}`);
  if (positionals.length !== spec.positionals) {
    usage(spec.positionals === 0 ? `${verb} takes no positional arguments (got ${positionals.join(' ')})` : `${verb} takes exactly ${spec.positionals} argument(s)`);
  }
  return { globals: globals(v), command: command(verb, v, positionals) };
}

function globals(v: Values): CliGlobals {
  const url = str(v, 'url') ?? DEFAULT_URL;
  if (!/^wss?:\/\/[^\s]+$/.test(url)) usage(`--url must be a ws:// or wss:// address, got "${url}"`);
  const cloud = str(v, 'cloud') ?? 'public';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cloud)) usage('--cloud must be 1–64 letters, digits, _ or -');
  const seconds = num(v, 'link-timeout', { min: 1, max: 3600 }) ?? 30;
  return { url, cloud, secret: str(v, 'secret') ?? null, identity: str(v, 'identity') ?? null, linkTimeoutMs: Math.round(seconds * 1000) };
}

function command(verb: CliVerb, v: Values, positionals: readonly string[]): CliCommand {
  switch (verb) {
    case 'run-instances': {
      const n = num(v, 'n', { min: 1, max: 1_000_000, integer: true });
      return { verb, slice: slice(v), query: query(v), ...(n === undefined ? {} : { n }) };
    }
    case 'add-instances':
      return { verb, slice: slice(v), n: required(num(v, 'n', { min: 1, max: 1_000_000, integer: true }), 'n') };
    case 'terminate-instances': {
      const peers = required(str(v, 'peers'), 'peers').split(',').map((p) => p.trim()).filter((p) => p !== '');
      if (peers.length === 0) usage('--peers needs at least one peer id');
      for (const p of peers) if (!PEER_ID.test(p)) usage(`--peers: "${p}" is not a peer id (40 lowercase hex characters)`);
      return { verb, slice: slice(v), peers };
    }
    case 'describe-instances':
    case 'release-slice':
      return { verb, slice: slice(v) };
    case 'set-site': {
      const site = required(str(v, 'site'), 'site');
      if (site.length > 64) usage('--site is at most 64 characters');
      return { verb, site };
    }
    case 'monitor-instances':
      return {
        verb,
        intervalMs: num(v, 'interval-ms', { min: 100, max: 3_600_000, integer: true }) ?? 1000,
        count: num(v, 'count', { min: 1, max: 1_000_000, integer: true }) ?? null,
      };
    case 'put':
      return { verb, file: positionals[0]! };
    case 'get': {
      const link = positionals[0]!;
      if (!link.startsWith('nephele://')) usage(`get needs a nephele:// link, got "${link}"`);
      return { verb, link, output: required(str(v, 'output'), 'output (-o FILE)') };
    }
    case 'submit':
      return submit(v, positionals[0]!);
  }
}

function submit(v: Values, module: string): CliCommand {
  const tasks = required(num(v, 'tasks', { min: 1, max: MAX_TASKS, integer: true }), 'tasks');
  const template = str(v, 'args') ?? '{i}';
  const taskArgs = Array.from({ length: tasks }, (_, i) => {
    const words = splitArgs(template.replaceAll('{i}', String(i)));
    if (!words.ok) usage(`--args: ${words.reason}`);
    return words.value;
  });
  const seconds = num(v, 'time-limit', { min: 0.1, max: 600 }) ?? 30;
  const n = num(v, 'redundancy', { min: 1, max: 7, integer: true }) ?? 1;
  const k = num(v, 'quorum', { min: 1, max: 7, integer: true }) ?? Math.floor(n / 2) + 1;
  if (k > n || 2 * k <= n) usage(`--quorum ${k} must be a majority of --redundancy ${n}`);
  return {
    verb: 'submit', module, taskArgs, stdin: str(v, 'stdin') ?? '', timeLimitMs: Math.round(seconds * 1000),
    redundancy: { n, k }, ...(v.slice === undefined ? {} : { slice: slice(v) }), wait: v.wait === true,
  };
}

/** Exactly one of --fraction P, --top PCT, --most N; --attribute with the last two; optional requirements. */
function query(v: Values): CloudQuery {
  const given = (['fraction', 'top', 'most'] as const).filter((k) => v[k] !== undefined);
  if (given.length !== 1) usage('run-instances needs exactly one of --fraction P, --top PCT (with --attribute), --most N (with --attribute)');
  const attribute = str(v, 'attribute');
  const requirements = requirementsOf(v);
  const extra = requirements === undefined ? {} : { requirements };
  if (given[0] === 'fraction') {
    if (attribute !== undefined) usage('--fraction takes no --attribute (any peers will do); use --top or --most to rank');
    return { kind: 'fraction', p: required(num(v, 'fraction', { min: Number.MIN_VALUE, max: 1 }), 'fraction'), ...extra };
  }
  if (attribute === undefined) usage(`--${given[0]} needs --attribute (e.g. cpuScore, memoryMB, cores)`);
  if (given[0] === 'top') {
    const pct = required(num(v, 'top', { min: Number.MIN_VALUE, max: 100 }), 'top');
    return { kind: 'top-fraction', p: pct / 100, attribute, ...extra };
  }
  return { kind: 'top-count', n: required(num(v, 'most', { min: 1, max: 1_000_000, integer: true }), 'most'), attribute, ...extra };
}

function requirementsOf(v: Values): CloudQuery['requirements'] {
  const r = {
    minCores: num(v, 'min-cores', { min: 0, max: 4096, integer: true }),
    minMemoryMB: num(v, 'min-memory-mb', { min: 0, max: 1e9 }),
    minGpuMemoryMB: num(v, 'min-gpu-mb', { min: 0, max: 1e9 }),
    minStorageMB: num(v, 'min-disk-mb', { min: 0, max: 1e9 }),
  };
  const set = Object.fromEntries(Object.entries(r).filter(([, x]) => x !== undefined));
  return Object.keys(set).length === 0 ? undefined : set;
}

function slice(v: Values): string {
  const name = required(str(v, 'slice'), 'slice');
  if (!SLICE_NAME.test(name)) usage(`--slice must be 1–48 letters, digits, _ . or - (starting with a letter or digit), got "${name}"`);
  return name;
}

function str(v: Values, key: keyof typeof ALL_OPTIONS): string | undefined {
  const x = v[key];
  return typeof x === 'string' ? x : undefined;
}

function num(v: Values, key: keyof typeof ALL_OPTIONS, range: { min: number; max: number; integer?: boolean }): number | undefined {
  const text = str(v, key);
  if (text === undefined) return undefined;
  const x = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(x) || x < range.min || x > range.max || (range.integer && !Number.isInteger(x))) {
    const lo = range.min === Number.MIN_VALUE ? 'above 0' : `from ${range.min}`;
    usage(`--${key} must be ${range.integer ? 'a whole number' : 'a number'} ${lo} to ${range.max}, got "${text}"`);
  }
  return x;
}

function required<T>(x: T | undefined, name: string): T {
  if (x === undefined) usage(`--${name} is required`);
  return x;
}
