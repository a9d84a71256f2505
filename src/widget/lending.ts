/**
 * Lending, once the visitor has opted in (loaded with a dynamic import only then, so before consent the
 * widget neither downloads nor runs the peer stack). Starts this partition's browser peer exactly as the
 * portal does (page/start-peer.ts) but lends it a gentle sandbox runner: one task at a time, a duty-cycle CPU
 * cap (cpu-budget.ts), and no work while paused (hidden, battery, Save-Data). The runner says it is not
 * `available` then, so the node refuses leases and they run elsewhere; a task that still arrives fails fast with
 * a named code instead of using the CPU. It runs WASI and x86 (v86) guests. Every task run here is tallied
 * (ledger.ts, "ran"); what the cloud accepted is the node's credit (compute service, "accepted"). The node is
 * told the partner site it lends for (`setPartner`, so the cloud can total credit per partner) and the same
 * limits: the compute service's lender limits (one task, the cap, paused) and the storage service's quota
 * (0 bytes unless the visitor turned storage lending on).
 */
import { startPeer } from '../page/start-peer.ts';
import type { ConnectedNode } from '../page/connect-node.ts';
import { runWasiTaskInBrowser } from '../compute/browser-sandbox.ts';
import { cancelSandboxRun } from '../compute/sandbox-cancel.ts';
import { runX86TaskInBrowser } from '../compute/browser-x86-sandbox.ts';
import type { SandboxRunner } from '../runtime/job-service.ts';
import type { NodeSnapshot } from '../runtime/api.ts';
import { CpuBudget } from './cpu-budget.ts';
import { ContributionLedger, type LedgerTotals } from './ledger.ts';
import { watchPauseConditions, type PauseReason } from './pause-conditions.ts';

export interface LendingView {
  readonly peerId: string;
  readonly signaling: string;
  readonly links: number;
  /** Tasks running here now: what and for whom (short peer id). */
  readonly running: readonly { readonly name: string; readonly forPeer: string }[];
  readonly pausedBecause: readonly PauseReason[];
  readonly cpuPercent: number;
  readonly totals: LedgerTotals;
  readonly lendStorage: boolean;
  /** Bytes of other peers' chunks this node holds (the storage service's usage), 0 when it has none. */
  readonly storageBytes: number;
  /** Credit the node earned for results other peers' quorums accepted. */
  readonly accepted: { readonly tasks: number; readonly seconds: number };
  /** Storage lent over time, GiB-hours (the storage service's `lentGiBHours`), null while it reports none. */
  readonly storageGiBHours: number | null;
}

export interface Lending {
  setCpuPercent(percent: number): void;
  setLendStorage(on: boolean): void;
}

/** Space lent when the visitor turns storage lending on. */
export const LENT_STORAGE_BYTES = 100 * 1024 * 1024;

function storageUsed(snapshot: NodeSnapshot | null): number {
  const part = snapshot?.services.storage;
  if (typeof part !== 'object' || part === null) return 0;
  const used = (part as { usedBytes?: unknown }).usedBytes;
  return typeof used === 'number' && Number.isFinite(used) && used >= 0 ? used : 0;
}

/** Storage-hours lent (storage-credit.ts) from the storage service's snapshot part, null if it has none. */
function storageHours(snapshot: NodeSnapshot | null): number | null {
  const part = snapshot?.services.storage;
  if (typeof part !== 'object' || part === null) return null;
  const hours = (part as { lentGiBHours?: unknown }).lentGiBHours;
  return typeof hours === 'number' && Number.isFinite(hours) && hours >= 0 ? hours : null;
}

/** The compute service's credit figures from a snapshot (zero until it reports). */
function acceptedCredit(snapshot: NodeSnapshot | null): { tasks: number; seconds: number } {
  const credit = (snapshot?.services.compute as { credit?: { tasksAccepted?: unknown; creditSeconds?: unknown } } | undefined)?.credit;
  const tasks = credit?.tasksAccepted;
  const seconds = credit?.creditSeconds;
  return {
    tasks: typeof tasks === 'number' && Number.isFinite(tasks) && tasks >= 0 ? tasks : 0,
    seconds: typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : 0,
  };
}

export async function startLending(options: {
  readonly cloud: string;
  /** The embedding partner's origin, told to the node so the cloud can total credit per partner. */
  readonly partnerOrigin: string | null;
  readonly cpuPercent: number;
  readonly lendStorage: boolean;
  readonly onChange: (view: LendingView) => void;
}): Promise<Lending> {
  const budget = new CpuBudget(options.cpuPercent);
  let lendStorage = options.lendStorage;
  let node: ConnectedNode | null = null;
  const ledger = new ContributionLedger();
  let paused: PauseReason[] = [];
  let last: NodeSnapshot | null = null;
  let peerId = '';

  const emit = (): void => options.onChange({
    peerId,
    signaling: last?.signaling ?? 'connecting',
    links: last?.connections.length ?? 0,
    running: (last?.hosting ?? []).map((h) => ({ name: h.name, forPeer: h.forPeer.slice(0, 8) })),
    pausedBecause: paused,
    cpuPercent: budget.percent,
    totals: ledger.totals(),
    lendStorage,
    storageBytes: storageUsed(last),
    accepted: acceptedCredit(last),
    storageGiBHours: storageHours(last),
  });

  // Services the node may not run (yet) answer E_UNKNOWN_SERVICE: then there is nothing of theirs to limit.
  const tellServices = (): void => {
    if (!node) return;
    const quiet = (): undefined => undefined;
    node.session.command('storage', 'setQuota', { bytes: lendStorage ? LENT_STORAGE_BYTES : 0 }).catch(quiet);
    node.session.command('compute', 'setPartner', { origin: options.partnerOrigin }).catch(quiet);
    node.session.command('compute', 'setLimits', { maxConcurrent: 1, cpuCapPercent: budget.percent, paused: paused.length > 0 }).catch(quiet);
  };

  const refusal = (): string | null => (paused.length > 0
    ? `E_LENDER_PAUSED: this lender is paused (${paused.join(', ')})`
    : budget.refusal(performance.now()));

  /** Runs one task under the budget, tallied in the ledger; refuses fast when paused or over the cap. */
  const lend = async <R extends { ok: boolean; durationMs: number; code?: string }>(name: string, work: () => Promise<R>, forPeer?: string): Promise<R> => {
    const refused = refusal();
    if (refused) {
      ledger.refused();
      emit();
      throw new Error(refused);
    }
    budget.begin();
    ledger.started(name, forPeer ?? null);
    emit();
    const startedAt = performance.now();
    let ranMs = 0;
    try {
      const result = await work();
      ranMs = result.durationMs;
      ledger.finished(result.durationMs, result.ok, result.ok ? null : result.code ?? 'E_TASK_FAILED');
      return result;
    } catch (err) {
      ranMs = performance.now() - startedAt;
      ledger.finished(ranMs, false, 'E_SANDBOX_FAILED');
      throw err;
    } finally {
      budget.end(performance.now(), ranMs);
      emit();
    }
  };

  const runner: SandboxRunner = {
    run: (spec, wasm, name, forPeer) => lend(name ?? 'task', () => runWasiTaskInBrowser(spec, wasm, name), forPeer),
    runX86: (spec, images) => lend(`x86 ${spec.domain.boot} guest`, () => runX86TaskInBrowser(spec, images)),
    kinds: () => ['wasi', 'x86'],
    available: () => refusal() === null,
    cancel: cancelSandboxRun,
  };

  watchPauseConditions((reasons) => {
    paused = reasons;
    tellServices();
    emit();
  });
  const started = await startPeer({
    cloud: options.cloud,
    secret: null,
    tickMs: 1000,
    runner,
    // Before the first snapshot and before any link: the limits land ahead of other peers' requests.
    onConnected: (connected) => {
      node = connected;
      tellServices();
    },
    onSnapshot: (snapshot) => {
      last = snapshot;
      ledger.observeHosting(snapshot.hosting);
      emit();
    },
  });
  peerId = started.peerId;
  emit();
  return {
    setCpuPercent(percent) {
      budget.setPercent(percent);
      tellServices();
      emit();
    },
    setLendStorage(on) {
      lendStorage = on;
      tellServices();
      emit();
    },
  };
}
