/**
 * The host side of the compute service at run time: each task copy the scheduler leased to this node (a
 * RunRequest) gets its images (from the cache, or fetched from the submitter and verified), runs in a WASI
 * sandbox or, for an x86 job, in v86 (compute-x86.ts) from `runner()`, and is reported as a RunResult with its
 * digest (compute-result.ts). A runner that is not taking tasks now (its lender paused, CPU cap reached) makes
 * the host hand the lease back at once (E_HOST_BUSY), so the scheduler leases it elsewhere. A copy the
 * scheduler cancelled (revoked, job cancelled, host paused) is killed at once: each run carries its task key
 * as `runId`, and the runner's `cancel(runId)` terminates its worker (compute/sandbox-cancel.ts); a runner
 * without `cancel` lets it run to its time limit. Either way its result is dropped. A WASI task's input files
 * (inline or by sha256 from the submitter) are resolved here and preopened by the sandbox. The scheduler hands
 * copies over in batches of one job, one slot each (host-side.ts): a WASI batch goes to the sandbox in ONE call
 * (the first spec carries the rest, run one after another, each under its own limits), so tiny tasks cost one
 * round trip to the page per batch, not per copy, and the batch's results are reported together (one `results`
 * message to the submitter, scheduler wire v2); a runner that ignores batches gets one call per copy, and so
 * does a lender with a CPU cap below 100 % (the widget counts each call as one task against its budget).
 * Failures of the host rather than the guest (no sandbox, image unavailable, sandbox crash) hand the lease back
 * (`abandon`) so another host runs it; guest outcomes, failures included, are results that go to the vote.
 */
import type { PeerId } from '../../core/ids.ts';
import { failedResult, WasiErrors, WasiLimits, type WasiTaskResult, type WasiTaskSpec } from '../../compute/wasi-task.ts';
import { DEFAULT_PROGRAM_NAME } from '../../compute/sandbox-messages.ts';
import type { RunRequest, RunResult, TaskKey } from '../../protocols/scheduler/types.ts';
import { askAvailable, type SandboxRunner } from '../job-service.ts';
import type { ImageFetcher } from './compute-images.ts';
import { toRunResult } from './compute-result.ts';
import { resolveInputFiles } from './compute-input-files.ts';
import { isHostFailure, planX86Task, x86ToTaskResult } from './compute-x86.ts';
import type { ComputeHostedRun } from './compute-types.ts';


export const HostRunErrors = {
  NO_SANDBOX: 'E_NO_SANDBOX',
  UNSUPPORTED_IMAGE: 'E_UNSUPPORTED_IMAGE',
  INPUT_FILES_UNSUPPORTED: 'E_INPUT_FILES_UNSUPPORTED',
  SANDBOX_FAILED: 'E_SANDBOX_FAILED',
  HOST_BUSY: 'E_HOST_BUSY',
} as const;

/** Linear memory a guest gets (the job model has no per-task memory field yet; requirements.ramMB gates hosts). */
export const GUEST_MEMORY_MIB = 256;
/** Time a sandbox gets beyond the task's limit to answer (it kills the guest itself at the limit). */
const SANDBOX_GRACE_MS = 5_000;
/** An x86 sandbox also starts a worker and loads v86 before its time limit starts. */
const X86_START_GRACE_MS = 30_000;
/** A runner that said it takes tasks is not asked again (a round trip to its tab) for this long. */
const AVAILABLE_TRUST_MS = 1_000;

export interface HostRunsDeps {
  readonly self: PeerId;
  readonly now: () => number;
  readonly runner: () => SandboxRunner | null;
  readonly fetcher: ImageFetcher;
  /** Copies that finished together (a batch's, or one): the scheduler reports them in one message per submitter. */
  readonly complete: (done: readonly CompletedRun[]) => void;
  readonly abandon: (key: TaskKey, code: string) => void;
  /** Test hook: returns a corruption of stdout when this node lies, null when honest. */
  readonly lie: () => ((stdout: string) => string) | null;
  readonly log: (level: 'info' | 'warn', text: string) => void;
  readonly changed: () => void;
}

export interface CompletedRun {
  readonly request: RunRequest;
  readonly result: RunResult;
}

interface Run {
  readonly request: RunRequest;
  phase: 'fetching' | 'running';
  readonly startedAt: number;
  cancelled: boolean;
  /** The runner this copy's sandbox runs on, once it runs. */
  runner: SandboxRunner | null;
}

export class HostRuns {
  private readonly runs = new Map<TaskKey, Run>();
  /** When each runner last said it takes tasks. */
  private readonly availableAt = new WeakMap<SandboxRunner, number>();
  /** Runners without `available` (they always take tasks): not asked again. */
  private readonly noSignal = new WeakSet<SandboxRunner>();
  /** Runners that answered a batch with one result only (they run batches one call per copy). */
  private readonly unbatched = new WeakSet<SandboxRunner>();
  ran = 0;
  abandoned = 0;

  constructor(private readonly deps: HostRunsDeps) {}

  start(request: RunRequest): void {
    this.startBatch([request]);
  }

  /**
   * Runs a batch of one job's copies (the scheduler's unit of one slot) one after another: WASI copies in one
   * sandbox call where the runner takes batches, x86 copies one by one.
   */
  startBatch(requests: readonly RunRequest[]): void {
    const runs: Run[] = [];
    for (const request of requests) {
      if (this.runs.has(request.key)) continue;
      const run: Run = { request, phase: 'fetching', startedAt: this.deps.now(), cancelled: false, runner: null };
      this.runs.set(request.key, run);
      runs.push(run);
    }
    if (runs.length === 0) return;
    this.deps.changed();
    void this.executeBatch(runs).finally(() => {
      for (const run of runs) this.runs.delete(run.request.key);
      this.deps.changed();
    });
  }

  /** The scheduler no longer wants this copy: its sandbox is killed if it runs, and its result is dropped. */
  cancel(key: TaskKey): void {
    const run = this.runs.get(key);
    if (!run || run.cancelled) return;
    run.cancelled = true;
    if (run.runner?.cancel) {
      // Behind comlink the call may reject (tab gone); the sandbox then dies with its tab anyway.
      void Promise.resolve().then(() => run.runner?.cancel?.(key)).catch(() => {});
    }
  }

  /** Copies in progress that still count (not cancelled). */
  active(): number {
    let n = 0;
    for (const r of this.runs.values()) if (!r.cancelled) n++;
    return n;
  }

  views(): ComputeHostedRun[] {
    return [...this.runs.values()].filter((r) => !r.cancelled).map((r) => ({
      key: r.request.key, jobId: r.request.jobId, task: r.request.task, submitter: r.request.submitter,
      phase: r.phase, startedAt: r.startedAt,
    }));
  }

  private async executeBatch(runs: readonly Run[]): Promise<void> {
    const offered = this.deps.runner();
    if (!offered) return this.giveBackAll(runs, HostRunErrors.NO_SANDBOX);
    // A lender with a CPU cap (the widget) counts each call as one task against its budget: no batches, no trust.
    const capped = runs.some((r) => r.request.cpuCapPercent < 100);
    if (!(await this.available(offered, !capped))) return this.giveBackAll(runs, HostRunErrors.HOST_BUSY);
    const image = runs[0]!.request.image;
    if (image.kind === 'x86') {
      for (const run of runs) if (!run.cancelled) await this.executeX86(run, image);
      return;
    }
    let wasm: Uint8Array;
    try {
      wasm = await this.deps.fetcher.get(image, runs[0]!.request.submitter);
    } catch (err) {
      return this.giveBackAll(runs, codeOf(err, 'E_IMAGE_UNAVAILABLE'));
    }
    const ready: { run: Run; spec: WasiTaskSpec }[] = [];
    for (const run of runs) {
      const { request } = run;
      try {
        const files = await resolveInputFiles(request.spec, request.submitter, (sha256, from) => this.deps.fetcher.get({ sha256 }, from));
        ready.push({ run, spec: wasiSpec(request, files) });
      } catch (err) {
        this.giveBack(run, codeOf(err, 'E_IMAGE_UNAVAILABLE'));
      }
    }
    let left = ready.filter((r) => !r.run.cancelled);
    while (left.length > 0) {
      const runner = this.deps.runner();
      if (!runner) return this.giveBackAll(left.map((r) => r.run), HostRunErrors.NO_SANDBOX);
      const batch = capped || this.unbatched.has(runner) ? left.slice(0, 1) : left.slice(0, WasiLimits.MAX_BATCH_TASKS + 1);
      left = left.slice(batch.length);
      const answered = await this.runWasi(runner, batch, wasm);
      // A runner that does not know batches ran the first copy only: the others go again, one per call.
      if (answered < batch.length) {
        this.unbatched.add(runner);
        left = [...batch.slice(answered), ...left].filter((r) => !r.run.cancelled);
      }
    }
  }

  /** One sandbox call for `batch` (the first copy's spec carries the others); returns how many were answered. */
  private async runWasi(runner: SandboxRunner, batch: readonly { run: Run; spec: WasiTaskSpec }[], wasm: Uint8Array): Promise<number> {
    for (const { run } of batch) {
      run.phase = 'running';
      run.runner = runner;
    }
    this.deps.changed();
    const [head, ...rest] = batch;
    const first = head!.run.request;
    const spec: WasiTaskSpec = rest.length === 0 ? head!.spec : { ...head!.spec, batch: rest.map((r) => r.spec) };
    let raw: WasiTaskResult;
    try {
      // Each copy may start a fresh worker (after a kill), so each gets its own grace.
      const limit = batch.reduce((ms, r) => ms + r.run.request.timeLimitMs + SANDBOX_GRACE_MS, 0);
      raw = await withDeadline(runner.run(spec, wasm, DEFAULT_PROGRAM_NAME, first.submitter), limit);
    } catch (err) {
      this.deps.log('warn', `compute: sandbox failed on task ${first.task} of ${first.jobId}: ${err instanceof Error ? err.message : String(err)}`);
      this.giveBackAll(batch.map((r) => r.run), HostRunErrors.SANDBOX_FAILED);
      return batch.length;
    }
    const { batch: more, ...own } = raw;
    const results = [own as WasiTaskResult, ...(Array.isArray(more) ? more.slice(0, rest.length) : [])];
    const done = await Promise.all(results.map((result, i) => {
      const run = batch[i]!.run;
      // A sandbox that could not start is this host's problem, not the guest's.
      if (!result.ok && result.code === WasiErrors.SANDBOX_FAILED) {
        this.giveBack(run, HostRunErrors.SANDBOX_FAILED);
        return null;
      }
      return this.finish(run, result);
    }));
    // The batch's results go back together: one message to the submitter instead of one per copy.
    const reported = done.filter((d): d is CompletedRun => d !== null);
    if (reported.length > 0) this.deps.complete(reported);
    return results.length;
  }

  private async executeX86(run: Run, image: Extract<RunRequest['image'], { kind: 'x86' }>): Promise<void> {
    const { request } = run;
    const plan = planX86Task(image, request.spec, request.timeLimitMs);
    if (!plan.ok) return this.report(run, failedResult(plan.code, plan.message));
    const images = new Map<string, Uint8Array>();
    try {
      for (const sha256 of plan.images) images.set(sha256, await this.deps.fetcher.get({ sha256 }, request.submitter));
    } catch (err) {
      return this.giveBack(run, codeOf(err, 'E_IMAGE_UNAVAILABLE'));
    }
    if (run.cancelled) return;
    const runner = this.deps.runner();
    if (!runner?.runX86) return this.giveBack(run, HostRunErrors.NO_SANDBOX);
    run.phase = 'running';
    run.runner = runner;
    this.deps.changed();
    let raw: Awaited<ReturnType<NonNullable<SandboxRunner['runX86']>>>;
    try {
      raw = await withDeadline(runner.runX86({ ...plan.spec, runId: request.key }, images), request.timeLimitMs + SANDBOX_GRACE_MS + X86_START_GRACE_MS);
    } catch (err) {
      this.deps.log('warn', `compute: x86 sandbox failed on task ${request.task} of ${request.jobId}: ${err instanceof Error ? err.message : String(err)}`);
      return this.giveBack(run, HostRunErrors.SANDBOX_FAILED);
    }
    if (isHostFailure(raw)) {
      this.deps.log('warn', `compute: x86 task ${request.task} of ${request.jobId}: ${raw.ok ? '' : `${raw.code}: ${raw.message}`}`);
      return this.giveBack(run, HostRunErrors.SANDBOX_FAILED);
    }
    return this.report(run, x86ToTaskResult(raw));
  }

  private async available(runner: SandboxRunner, trustRecent: boolean): Promise<boolean> {
    if (this.noSignal.has(runner)) return true;
    const at = this.availableAt.get(runner);
    if (trustRecent && at !== undefined && this.deps.now() - at < AVAILABLE_TRUST_MS) return true;
    const answer = await askAvailable(runner);
    if (answer === 'no-signal') this.noSignal.add(runner);
    const yes = answer !== false;
    if (yes) this.availableAt.set(runner, this.deps.now());
    else this.availableAt.delete(runner);
    return yes;
  }

  private async report(run: Run, raw: WasiTaskResult): Promise<void> {
    const done = await this.finish(run, raw);
    if (done) this.deps.complete([done]);
  }

  /** The digested result of a copy, or null if the copy was cancelled meanwhile (its result is dropped). */
  private async finish(run: Run, raw: WasiTaskResult): Promise<CompletedRun | null> {
    const result = await toRunResult(raw, run.request.outputLimits, this.deps.lie());
    if (run.cancelled) return null;
    this.ran++;
    return { request: run.request, result };
  }

  private giveBackAll(runs: readonly Run[], code: string): void {
    for (const run of runs) this.giveBack(run, code);
  }

  private giveBack(run: Run, code: string): void {
    if (run.cancelled) return;
    this.abandoned++;
    this.deps.log('warn', `compute: handing back task ${run.request.task} of ${run.request.jobId}: ${code}`);
    this.deps.abandon(run.request.key, code);
  }
}

/** The sandbox spec of one copy; copies of one job may share a sandbox worker, one after another (never another job's). */
function wasiSpec(request: RunRequest, files: Awaited<ReturnType<typeof resolveInputFiles>>): WasiTaskSpec {
  return {
    args: request.spec.args, env: request.spec.env, stdin: request.spec.stdin,
    timeLimitMs: request.timeLimitMs, memoryLimitMiB: GUEST_MEMORY_MIB, runId: request.key,
    reuseKey: `${request.submitter}:${request.jobId}`,
    ...(files.length > 0 ? { files } : {}),
  };
}

function codeOf(err: unknown, fallback: string): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E_[A-Z0-9_]{1,62}$/.test(code) ? code : fallback;
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sandbox did not answer within ${ms} ms (its tab may have closed)`)), ms);
    work.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (err: unknown) => { clearTimeout(timer); reject(err instanceof Error ? err : new Error(String(err))); },
    );
  });
}

/** The answer of `work`, or null if it takes longer than `ms` (a closed tab's comlink call never settles). */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | null> {
  return new Promise<T | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    work.then(
      (value) => { clearTimeout(timer); resolve(value); },
      () => { clearTimeout(timer); resolve(null); },
    );
  });
}
