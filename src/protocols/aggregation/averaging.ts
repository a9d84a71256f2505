/**
 * The arithmetic of push-pull averaging (Jelasity, Montresor, Babaoglu, ACM TOCS 23(3) 2005) on maps of named
 * values, kept apart from the protocol so any aggregate (network size, load, free CPU) can reuse it.
 *
 * Three kinds of keys:
 *  - counting instances (`missingIsZero`): a key a node has not heard of means value 0 — the node really holds
 *    none of that instance's mass;
 *  - named values: a key missing on one side is left alone (a node that never had the value has nothing to add),
 *    so the mean is taken over the nodes that have the key;
 *  - summed values (named values whose name starts with `sum.`, see `summedKey`): a node without the key holds 0
 *    of it, exactly like a counting instance, so the mean is over every node and mean × N is the cloud-wide sum
 *    (credit per partner: most nodes never lent for that partner and must count as 0, not be left out).
 *    At most `MAX_SUMMED_KEYS` of them, the smallest names, are kept in a map (the same order everywhere, so all
 *    nodes keep the same ones) because their union spreads to every node and messages are bounded.
 *
 * Mass is conserved even when exchanges overlap: the replier sets (mine + theirs) / 2, and the initiator adds
 * half the difference between the reply and what it sent, (reply - sent) / 2, to whatever it holds now.
 */
export type Averages = Map<string, number>;

/** Names of summed values start with this (names on the wire match [a-z0-9][a-z0-9_.-]{0,31}). */
export const SUMMED_PREFIX = 'sum.';
/** Summed keys kept per map (and so per message); the wire allows 32 named values in all. */
export const MAX_SUMMED_KEYS = 16;

/** The averaging name of a value whose cloud-wide sum is wanted (missing counts as 0). */
export function summedKey(name: string): string {
  return SUMMED_PREFIX + name;
}

export function isSummedKey(key: string): boolean {
  return key.startsWith(SUMMED_PREFIX);
}

/** The replier's new state: the pairwise mean. */
export function meanOf(mine: Averages, theirs: Averages, missingIsZero: boolean): Averages {
  if (theirs.size === 0 && (mine.size === 0 || (!missingIsZero && !hasSummedKey(mine)))) return mine;
  const out: Averages = new Map();
  for (const [key, a] of mine) {
    const b = theirs.get(key);
    out.set(key, b === undefined ? (missingIsZero || isSummedKey(key) ? a / 2 : a) : (a + b) / 2);
  }
  for (const [key, b] of theirs) if (!mine.has(key) && (missingIsZero || isSummedKey(key))) out.set(key, b / 2);
  return missingIsZero ? out : capSummedKeys(out);
}

/** The initiator's new state: current + (reply - sent) / 2, key by key. */
export function applyReply(current: Averages, sent: Averages, reply: Averages, missingIsZero: boolean): Averages {
  if (current.size === 0 && sent.size === 0 && reply.size === 0) return current;
  return missingIsZero ? applyCountingReply(current, sent, reply) : applyNamedReply(current, sent, reply);
}

/** Keeps the k entries with the smallest keys (the same total order everywhere, so all nodes keep the same k). */
export function keepSmallestKeys(values: Averages, k: number): Averages {
  if (values.size <= k) return values;
  const keys = [...values.keys()].sort().slice(0, k);
  return new Map(keys.map((key) => [key, values.get(key)!]));
}

function applyCountingReply(current: Averages, sent: Averages, reply: Averages): Averages {
  const out: Averages = new Map();
  for (const [key, c] of current) out.set(key, Math.max(0, c + ((reply.get(key) ?? 0) - (sent.get(key) ?? 0)) / 2));
  // Instances we no longer hold (or never did) but that the exchange touched.
  const touch = (key: string): void => {
    if (current.has(key) || out.has(key)) return;
    const v = ((reply.get(key) ?? 0) - (sent.get(key) ?? 0)) / 2;
    if (v > 0) out.set(key, v);
  };
  for (const key of reply.keys()) touch(key);
  for (const key of sent.keys()) touch(key);
  return out;
}

function applyNamedReply(current: Averages, sent: Averages, reply: Averages): Averages {
  if (!hasSummedKey(current) && !hasSummedKey(sent) && !hasSummedKey(reply) && (current.size === 0 || reply.size === 0)) return current;
  const out: Averages = new Map();
  for (const [key, c] of current) {
    const r = reply.get(key);
    const s = sent.get(key);
    if (isSummedKey(key)) out.set(key, c + ((r ?? 0) - (s ?? 0)) / 2);
    else out.set(key, r === undefined || s === undefined ? c : c + (r - s) / 2);
  }
  // Summed values are not clamped at 0: an overlapping exchange may leave one node briefly below 0, and clamping
  // would create mass; the sum stays exact and the next exchanges even it out.
  const touch = (key: string): void => {
    if (!isSummedKey(key) || current.has(key) || out.has(key)) return;
    const v = ((reply.get(key) ?? 0) - (sent.get(key) ?? 0)) / 2;
    if (v !== 0) out.set(key, v);
  };
  for (const key of reply.keys()) touch(key);
  for (const key of sent.keys()) touch(key);
  return capSummedKeys(out);
}

function hasSummedKey(values: Averages): boolean {
  for (const key of values.keys()) if (isSummedKey(key)) return true;
  return false;
}

function capSummedKeys(values: Averages): Averages {
  const summed = [...values.keys()].filter(isSummedKey);
  if (summed.length <= MAX_SUMMED_KEYS) return values;
  const dropped = new Set(summed.sort().slice(MAX_SUMMED_KEYS));
  return new Map([...values].filter(([key]) => !dropped.has(key)));
}
