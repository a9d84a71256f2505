/**
 * Lending, once the visitor has opted in (loaded with a dynamic import only then, so before consent the
 * widget neither downloads nor runs the peer stack). Starts this partition's browser peer exactly as the
 * portal does (page/start-peer.ts) but lends it a gentle sandbox runner: one task at a time, a duty-cycle CPU
 * cap (cpu-budget.ts), and no work while paused (hidden, battery, Save-Data). A refused task fails fast with a
 * named code instead of using the CPU. Every task run here is tallied (ledger.ts). The node's own services are
 * told the same limits: the compute service's lender limits (one task, the cap, paused) and the storage
 * service's quota (0 bytes unless the visitor turned storage lending on).
 */
import { startPeer } from '../page/start-peer.ts';
import type { ConnectedNode } from '../page/connect-node.ts';
import { runWasiTaskInBrowser } from '../compute/browser-sandbox.ts';
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

export async function startLending(options: {
  readonly cloud: string;
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
  });

  // Services the node may not run (yet) answer E_UNKNOWN_SERVICE: then there is nothing of theirs to limit.
  const tellServices = (): void => {
    if (!node) return;
    const quiet = (): undefined => undefined;
    node.session.command('storage', 'setQuota', { bytes: lendStorage ? LENT_STORAGE_BYTES : 0 }).catch(quiet);
    node.session.command('compute', 'setLimits', { maxConcurrent: 1, cpuCapPercent: budget.percent, paused: paused.length > 0 }).catch(quiet);
  };

  const runner: SandboxRunner = {
    async run(spec, wasm, name) {
      const refusal = paused.length > 0
        ? `E_LENDER_PAUSED: this lender is paused (${paused.join(', ')})`
        : budget.refusal(performance.now());
      if (refusal) {
        ledger.refused();
        emit();
        throw new Error(refusal);
      }
      budget.begin();
      ledger.started(name ?? 'task');
      emit();
      const startedAt = performance.now();
      let ranMs = 0;
      try {
        const result = await runWasiTaskInBrowser(spec, wasm, name);
        ranMs = result.durationMs;
        ledger.finished(result.durationMs, result.ok, result.ok ? null : result.code);
        return result;
      } catch (err) {
        ranMs = performance.now() - startedAt;
        ledger.finished(ranMs, false, 'E_SANDBOX_FAILED');
        throw err;
      } finally {
        budget.end(performance.now(), ranMs);
        emit();
      }
    },
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
