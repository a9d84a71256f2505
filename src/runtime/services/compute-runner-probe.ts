/**
 * Whether this node hosts compute tasks, and which guest kinds it offers: a node lends only while one of its
 * tabs (or its process) lends it a sandbox runner that is taking tasks. The runner answers asynchronously (through
 * comlink in the browser, a round trip to its tab), so the last answer stands until the next one. Asked sparingly
 * — it used to be asked both questions on every tick, idle or not: its kinds once per runner, whether it takes
 * tasks at most every AVAILABLE_PROBE_MS, and never again for a runner without `available` (the portal's, which
 * always takes tasks). A runner that goes away (its tab closed) stops hosting at the next tick; a lender that
 * pauses between two probes hands its next batch back (E_HOST_BUSY, compute-host-runs.ts).
 */
import type { ServiceDeps } from '../node-service.ts';
import { askAvailable, runnerKinds, type GuestKind, type SandboxRunner } from '../job-service.ts';
import { withTimeout } from './compute-host-runs.ts';

/** A runner that does not answer within this long is asked again at a later tick. */
const RUNNER_PROBE_TIMEOUT_MS = 5_000;
/** A runner that tells whether it takes tasks (a lender's CPU cap, pause) is asked again after this long. */
export const AVAILABLE_PROBE_MS = 1_000;

interface Answers {
  readonly runner: SandboxRunner;
  kinds: readonly GuestKind[];
  available: boolean;
  askedAt: number;
  probing: boolean;
  /** Not asked yet: its kinds are asked too. */
  fresh: boolean;
  /** False once the runner showed it has no `available`: it always takes tasks and is not asked again. */
  signals: boolean;
}

export class RunnerProbe {
  private answers: Answers | null = null;
  private lastKinds: readonly GuestKind[] = ['wasi'];
  private lastAvailable = true;

  constructor(
    private readonly deps: Pick<ServiceDeps, 'runner' | 'now'>,
    private readonly setHosting: (kinds: readonly GuestKind[] | null) => void,
  ) {}

  /** Called every tick: hosts with the last answer at once, and asks the runner again when due. */
  update(hosting: boolean): void {
    const runner = this.deps.runner();
    if (!runner) {
      this.answers = null;
      return this.setHosting(null);
    }
    let a = this.answers;
    if (a?.runner !== runner) {
      a = this.answers = { runner, kinds: this.lastKinds, available: this.lastAvailable, askedAt: -Infinity, probing: false, fresh: true, signals: true };
    }
    if (!hosting && !a.probing && a.available) this.setHosting(a.kinds);
    if (a.probing || (!a.fresh && (!a.signals || this.deps.now() - a.askedAt < AVAILABLE_PROBE_MS))) return;
    const asked: Answers = a;
    asked.probing = true;
    asked.askedAt = this.deps.now();
    const ask = asked.fresh
      ? Promise.all([runnerKinds(runner), askAvailable(runner)])
      : askAvailable(runner).then((yes) => [asked.kinds, yes] as const);
    void withTimeout(ask, RUNNER_PROBE_TIMEOUT_MS).then((answer) => {
      asked.probing = false;
      if (!answer || this.answers !== asked || this.deps.runner() !== runner) return;
      const [kinds, available] = answer;
      asked.fresh = false;
      asked.signals = available !== 'no-signal';
      this.lastKinds = asked.kinds = kinds;
      this.lastAvailable = asked.available = available !== false;
      this.setHosting(asked.available ? kinds : null);
    });
  }
}
