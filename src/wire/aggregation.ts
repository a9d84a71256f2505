/**
 * Wire format of epoch-based push-pull averaging (Jelasity, Montresor, Babaoglu, ACM TOCS 23(3) 2005),
 * envelope `p: 'aggregation'`.
 *
 *   { t: 'push' | 'pull', epoch, cycle, instances: [[leaderPeerId, value], ...], values: [[name, value], ...] }
 *
 * `push` opens an exchange, `pull` answers it with the replier's state from before it merged. `instances` are the
 * size-estimation counting instances (value 1 at the leader, 0 elsewhere, missing = 0); `values` are other named
 * averages (load, free CPU). Decoded once at the boundary into a typed value or a named rejection.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';

export const AGGREGATION_WIRE_VERSION = 1;
export const MAX_INSTANCES = 32;
export const MAX_NAMED_VALUES = 32;
export const MAX_EPOCH = 2 ** 31;
export const MAX_CYCLE = 100_000;

export const AggregationErrors = {
  MALFORMED: 'E_AGG_MALFORMED',
  TOO_MANY_ENTRIES: 'E_AGG_TOO_MANY_ENTRIES',
  BAD_PEER_ID: 'E_BAD_PEER_ID',
  BAD_VALUE: 'E_AGG_BAD_VALUE',
} as const;

const peerId = z.string().regex(/^[0-9a-f]{40}$/);
/** A counting instance's value is a share of one unit of mass. */
const share = z.number().min(0).max(1);
const valueName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,31}$/);
const finite = z.number().min(-1e15).max(1e15);

const body = {
  epoch: z.number().int().min(0).max(MAX_EPOCH),
  cycle: z.number().int().min(0).max(MAX_CYCLE),
  instances: z.array(z.tuple([peerId, share])).max(MAX_INSTANCES),
  values: z.array(z.tuple([valueName, finite])).max(MAX_NAMED_VALUES),
};

export const aggregationMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('push'), ...body }).strict(),
  z.object({ t: z.literal('pull'), ...body }).strict(),
]);
export type AggregationMessage = z.infer<typeof aggregationMessage>;

export function decodeAggregationMessage(m: unknown): Decoded<AggregationMessage> {
  if (typeof m !== 'object' || m === null) return reject(AggregationErrors.MALFORMED, 'message is not an object');
  const { instances, values } = m as { instances?: unknown; values?: unknown };
  if (Array.isArray(instances) && instances.length > MAX_INSTANCES) {
    return reject(AggregationErrors.TOO_MANY_ENTRIES, `${instances.length} instances, at most ${MAX_INSTANCES}`);
  }
  if (Array.isArray(values) && values.length > MAX_NAMED_VALUES) {
    return reject(AggregationErrors.TOO_MANY_ENTRIES, `${values.length} values, at most ${MAX_NAMED_VALUES}`);
  }
  const parsed = aggregationMessage.safeParse(m);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.join('.') : '';
    const where = `${path || 'message'}: ${issue?.message ?? 'invalid'}`;
    if (/^instances\.\d+\.0$/.test(path)) return reject(AggregationErrors.BAD_PEER_ID, where);
    if (/^(instances|values)\.\d+\.1$/.test(path)) return reject(AggregationErrors.BAD_VALUE, where);
    return reject(AggregationErrors.MALFORMED, where);
  }
  const leaders = parsed.data.instances.map(([leader]) => leader);
  if (new Set(leaders).size !== leaders.length) return reject(AggregationErrors.MALFORMED, 'an instance appears twice');
  const names = parsed.data.values.map(([name]) => name);
  if (new Set(names).size !== names.length) return reject(AggregationErrors.MALFORMED, 'a named value appears twice');
  return accept(parsed.data);
}
