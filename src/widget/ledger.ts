/**
 * What this widget's node actually ran for the cloud: tasks, the sandbox time they took, and for whom. Fed by
 * the widget's sandbox runner (every task this node hosts runs through it) and by the node's snapshots, which
 * name the peer a running task is for. This is the visitor's own tally of what ran here ("ran"); the credit other
 * peers' quorums accepted is the node's (the compute service's ledger), shown beside it as "accepted".
 */
export interface LedgerEntry {
  readonly name: string;
  /** Short id of the peer the task ran for, once a snapshot named it. */
  readonly forPeer: string | null;
  readonly durationMs: number;
  readonly ok: boolean;
  readonly code: string | null;
}

export interface LedgerTotals {
  readonly tasksRun: number;
  readonly tasksRefused: number;
  /** Wall-clock time tasks ran in this page's sandboxes, ms (an upper bound on the CPU time lent). */
  readonly cpuMs: number;
  readonly recent: readonly LedgerEntry[];
}

const RECENT = 5;

export class ContributionLedger {
  private tasksRun = 0;
  private tasksRefused = 0;
  private cpuMs = 0;
  private recent: LedgerEntry[] = [];
  private running: { name: string; forPeer: string | null } | null = null;

  started(name: string, forPeer: string | null = null): void {
    this.running = { name, forPeer: forPeer ? forPeer.slice(0, 8) : null };
  }

  /** Attributes the running task to the peer a snapshot's hosting list names for it. */
  observeHosting(hosting: readonly { readonly name: string; readonly forPeer: string }[]): void {
    if (!this.running || this.running.forPeer) return;
    const match = hosting.find((h) => h.name === this.running?.name);
    if (match) this.running.forPeer = match.forPeer.slice(0, 8);
  }

  finished(durationMs: number, ok: boolean, code: string | null): void {
    const entry: LedgerEntry = {
      name: this.running?.name ?? 'task', forPeer: this.running?.forPeer ?? null,
      durationMs: Math.max(0, Math.round(durationMs)), ok, code,
    };
    this.running = null;
    this.tasksRun++;
    this.cpuMs += entry.durationMs;
    this.recent = [entry, ...this.recent].slice(0, RECENT);
  }

  refused(): void {
    this.tasksRefused++;
  }

  totals(): LedgerTotals {
    return { tasksRun: this.tasksRun, tasksRefused: this.tasksRefused, cpuMs: this.cpuMs, recent: this.recent };
  }
}
