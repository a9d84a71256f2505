/**
 * Every frame between peers carries an envelope header `{ p, v, m }`: the protocol name, that protocol's wire
 * version and its message. The envelope is checked here; `m` is checked by the protocol's own decoder.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';

export interface Envelope {
  readonly p: string;
  readonly v: number;
  readonly m: unknown;
}

const envelopeSchema = z.object({
  p: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/),
  v: z.number().int().min(1).max(1000),
  m: z.unknown(),
});

export function decodeEnvelope(header: unknown): Decoded<Envelope> {
  const parsed = envelopeSchema.safeParse(header);
  if (!parsed.success) return reject('E_BAD_ENVELOPE', 'frame header is not a {p, v, m} envelope');
  return accept(parsed.data as Envelope);
}
