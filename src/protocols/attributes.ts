/**
 * Node attributes: what a node offers the cloud (P2PCS, "Design and Implementation of a P2P Cloud System":
 * the Slicing Service ranks nodes by such attributes, e.g. "the top 1% fastest nodes"). The runtime measures
 * them; this file only defines their shape, validates them at the boundary and names the numeric ones that a
 * slice can be ranked by.
 */
import { z } from 'zod';
import { accept, reject, type Decoded } from '../core/errors.ts';

export interface NodeAttributes {
  /** Logical CPU cores offered. */
  readonly cores: number;
  /** Memory offered, MB. */
  readonly memoryMB: number;
  /** GPU memory, MB; null when the node has no usable GPU. */
  readonly gpuMemoryMB: number | null;
  /** Relative CPU speed from a local micro-benchmark (higher is faster). */
  readonly cpuScore: number;
  /** Storage offered, MB. */
  readonly storageMB: number;
  /** Seconds the node has been up. */
  readonly uptimeS: number;
  /** Free-form site label (lab, city, browser profile) for locality. */
  readonly site: string;
}

/** The numeric attributes a slice can be ranked by. */
export const RANKABLE_ATTRIBUTES = ['cores', 'memoryMB', 'gpuMemoryMB', 'cpuScore', 'storageMB', 'uptimeS'] as const;
export type RankableAttribute = (typeof RANKABLE_ATTRIBUTES)[number];

export const AttributeErrors = {
  BAD_ATTRIBUTES: 'E_BAD_ATTRIBUTES',
  UNKNOWN_ATTRIBUTE: 'E_UNKNOWN_ATTRIBUTE',
} as const;

/** Generous upper bounds: anything beyond is a bug or a lie. */
const MAX_MB = 1e9;
const MAX_CORES = 4096;

export const nodeAttributesSchema = z
  .object({
    cores: z.number().int().min(0).max(MAX_CORES),
    memoryMB: z.number().min(0).max(MAX_MB),
    gpuMemoryMB: z.number().min(0).max(MAX_MB).nullable(),
    cpuScore: z.number().min(0).max(1e12),
    storageMB: z.number().min(0).max(MAX_MB),
    uptimeS: z.number().min(0).max(1e10),
    site: z.string().max(64),
  })
  .strict();

export function decodeNodeAttributes(raw: unknown): Decoded<NodeAttributes> {
  const parsed = nodeAttributesSchema.safeParse(raw);
  if (parsed.success) return accept(parsed.data);
  const issue = parsed.error.issues[0];
  return reject(AttributeErrors.BAD_ATTRIBUTES, `${issue?.path.join('.') || 'attributes'}: ${issue?.message ?? 'invalid'}`);
}

export function isRankableAttribute(name: string): name is RankableAttribute {
  return (RANKABLE_ATTRIBUTES as readonly string[]).includes(name);
}

/** The value a node is ranked by for `attribute`; a missing GPU counts as 0 MB. */
export function attributeValue(attrs: NodeAttributes, attribute: RankableAttribute): number {
  const v = attrs[attribute];
  return v ?? 0;
}
