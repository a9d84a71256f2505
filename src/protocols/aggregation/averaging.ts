/**
 * The arithmetic of push-pull averaging (Jelasity, Montresor, Babaoglu, ACM TOCS 23(3) 2005) on maps of named
 * values, kept apart from the protocol so any aggregate (network size, load, free CPU) can reuse it.
 *
 * Two kinds of maps:
 *  - counting instances (`missingIsZero`): a key a node has not heard of means value 0 — the node really holds
 *    none of that instance's mass;
 *  - named values: a key missing on one side is left alone (a node that never had the value has nothing to add).
 *
 * Mass is conserved even when exchanges overlap: the replier sets (mine + theirs) / 2, and the initiator adds
 * half the difference between the reply and what it sent, (reply - sent) / 2, to whatever it holds now.
 */
export type Averages = Map<string, number>;

/** The replier's new state: the pairwise mean. */
export function meanOf(mine: Averages, theirs: Averages, missingIsZero: boolean): Averages {
  if (theirs.size === 0 && (mine.size === 0 || !missingIsZero)) return mine;
  const out: Averages = new Map();
  for (const [key, a] of mine) {
    const b = theirs.get(key);
    out.set(key, b === undefined ? (missingIsZero ? a / 2 : a) : (a + b) / 2);
  }
  if (missingIsZero) for (const [key, b] of theirs) if (!mine.has(key)) out.set(key, b / 2);
  return out;
}

/** The initiator's new state: current + (reply - sent) / 2, key by key. */
export function applyReply(current: Averages, sent: Averages, reply: Averages, missingIsZero: boolean): Averages {
  if (current.size === 0 && sent.size === 0 && reply.size === 0) return current;
  if (!missingIsZero && (current.size === 0 || reply.size === 0)) return current;
  const out: Averages = new Map();
  for (const [key, c] of current) {
    const r = reply.get(key);
    const s = sent.get(key);
    if (missingIsZero) out.set(key, Math.max(0, c + ((r ?? 0) - (s ?? 0)) / 2));
    else out.set(key, r === undefined || s === undefined ? c : c + (r - s) / 2);
  }
  if (!missingIsZero) return out;
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

/** Keeps the k entries with the smallest keys (the same total order everywhere, so all nodes keep the same k). */
export function keepSmallestKeys(values: Averages, k: number): Averages {
  if (values.size <= k) return values;
  const keys = [...values.keys()].sort().slice(0, k);
  return new Map(keys.map((key) => [key, values.get(key)!]));
}
