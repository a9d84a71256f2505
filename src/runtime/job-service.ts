/**
 * Job dispatch for the spine: a submitter sends a WASI job to another peer, which runs it in a sandbox worker
 * and sends the result back. A job whose host vanishes, refuses or stays silent past its time limit is retried
 * on a different peer, up to MAX_ATTEMPTS. (Publish/subscribe host discovery and quorum arrive with the compute
 * issue; this is the direct, one-host path.)
 */
import type { PeerId } from '../core/ids.ts';
import { bytesToHex } from '../core/ids.ts';
import type { Rng } from '../core/rng.ts';
import { NepheleError } from '../core/errors.ts';
import { encodeFrame } from '../wire/frame.ts';
import { fitResultForWire, JOB_WIRE_VERSION, type JobMessage, type JobRunMessage } from '../wire/job.ts';
import type { WasiTaskResult, WasiTaskSpec } from '../compute/wasi-task.ts';
import type { X86Images, X86TaskResult, X86TaskSpec } from '../compute/x86-task.ts';
import type { HostedTask, JobRecord, JobRequest } from './api.ts';

/** Guest kinds a runner can run. */
export type GuestKind = 'wasi' | 'x86';

/**
 * A sandbox lent by a tab (through comlink, so every method may answer with a promise) or by the Node peer.
 * A runner without `kinds` runs WASI only; one that lists 'x86' must implement `runX86`. A runner whose
 * `available` answers false cannot take a task now (its lender paused it, its CPU budget is spent): the host
 * refuses the work so it goes elsewhere, instead of failing it.
 */
export interface SandboxRunner {
  /** `forPeer` is the peer the task runs for (shown to lenders). */
  run(spec: WasiTaskSpec, wasm: Uint8Array, name?: string, forPeer?: PeerId): Promise<WasiTaskResult>;
  runX86?(spec: X86TaskSpec, images: X86Images): Promise<X86TaskResult>;
  kinds?(): readonly GuestKind[] | Promise<readonly GuestKind[]>;
  available?(): boolean | Promise<boolean>;
  /** Kills the run whose spec carried this `runId` now (compute/sandbox-cancel.ts); false if none is live. */
  cancel?(runId: string): boolean | Promise<boolean>;
}

/**
 * Asks a runner whether it takes a task now. A runner that has no `available` (or, behind comlink, fails to
 * answer it) takes tasks.
 */
export async function runnerAvailable(runner: SandboxRunner): Promise<boolean> {
  return (await askAvailable(runner)) !== false;
}

/**
 * Whether the runner takes a task now; 'no-signal' when it has no `available` (behind comlink the call fails),
 * so it always takes tasks and need not be asked again.
 */
export async function askAvailable(runner: SandboxRunner): Promise<boolean | 'no-signal'> {
  if (runner.available === undefined) return 'no-signal';
  try {
    return (await runner.available()) !== false;
  } catch {
    return 'no-signal';
  }
}

/** The guest kinds a runner can run ('wasi' when it does not say, or cannot answer). */
export async function runnerKinds(runner: SandboxRunner): Promise<GuestKind[]> {
  try {
    const kinds = await runner.kinds?.();
    if (!Array.isArray(kinds)) return ['wasi'];
    const valid = kinds.filter((k): k is GuestKind => k === 'wasi' || k === 'x86');
    return valid.length > 0 ? [...new Set(valid)] : ['wasi'];
  } catch {
    return ['wasi'];
  }
}

export interface JobServiceDeps {
  readonly self: PeerId;
  readonly rng: Rng;
  readonly now: () => number;
  readonly linkedPeers: () => readonly PeerId[];
  readonly sendFrame: (to: PeerId, frame: Uint8Array) => boolean;
  /** A sandbox able to run a task here, or null (no tab can host workers right now). */
  readonly runner: () => SandboxRunner | null;
  readonly log: (level: 'info' | 'warn', text: string) => void;
  readonly changed: () => void;
  readonly maxConcurrentTasks: number;
}

const MAX_ATTEMPTS = 3;
/** Time a host gets beyond the task's own limit (transfer, worker start-up) before the job is retried. */
const HOST_GRACE_MS = 20_000;
const MAX_KEPT_JOBS = 200;
/** Time a sandbox gets beyond the task's limit to report (it kills the task itself at the limit). */
const SANDBOX_GRACE_MS = 5_000;

interface SubmittedJob {
  record: JobRecord;
  readonly request: JobRequest;
  readonly tried: Set<PeerId>;
  dispatchedAt: number;
}

export class JobService {
  private readonly submitted = new Map<string, SubmittedJob>();
  private readonly hosted = new Map<string, HostedTask>();

  constructor(private readonly deps: JobServiceDeps) {}

  submit(request: JobRequest): string {
    const id = bytesToHex(Uint8Array.from({ length: 8 }, () => this.deps.rng.int(256)));
    const record: JobRecord = {
      id, name: request.name, submittedAt: this.deps.now(), state: 'dispatching', host: null, exitCode: null,
      stdout: '', stderr: '', error: null, durationMs: null, attempts: 0,
    };
    const job: SubmittedJob = { record, request, tried: new Set(), dispatchedAt: this.deps.now() };
    this.submitted.set(id, job);
    this.trim();
    this.dispatch(job);
    return id;
  }

  jobs(): JobRecord[] {
    return [...this.submitted.values()].map((j) => j.record).reverse();
  }

  hosting(): HostedTask[] {
    return [...this.hosted.values()];
  }

  onMessage(from: PeerId, msg: JobMessage, body: Uint8Array): void {
    switch (msg.type) {
      case 'run':
        void this.host(from, msg, body);
        return;
      case 'result': {
        const job = this.activeJobFrom(msg.jobId, from);
        if (!job) return;
        const r = msg.result;
        this.update(job, {
          state: r.ok ? 'done' : 'failed',
          exitCode: r.ok ? r.exitCode : null,
          stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs,
          error: r.ok ? null : `${r.code}: ${r.message}`,
        });
        this.deps.log('info', `job ${msg.jobId} finished on ${from.slice(0, 8)}${r.ok ? ` (exit ${r.exitCode})` : ` (${r.code})`}`);
        return;
      }
      case 'reject': {
        const job = this.activeJobFrom(msg.jobId, from);
        if (!job) return;
        this.deps.log('warn', `peer ${from.slice(0, 8)} refused job ${msg.jobId}: ${msg.code}: ${msg.message}`);
        this.dispatch(job, `${msg.code}: ${msg.message}`);
        return;
      }
      case 'cancel':
        return;
    }
  }

  peerDown(peer: PeerId): void {
    for (const job of this.submitted.values()) {
      if (job.record.host === peer && isActive(job.record)) {
        this.deps.log('warn', `host ${peer.slice(0, 8)} of job ${job.record.id} left; retrying elsewhere`);
        this.dispatch(job, `E_HOST_LOST: host ${peer.slice(0, 8)} disconnected`);
      }
    }
  }

  tick(): void {
    const now = this.deps.now();
    for (const job of this.submitted.values()) {
      if (job.record.state !== 'running') continue;
      if (now - job.dispatchedAt > job.request.timeLimitMs + HOST_GRACE_MS) {
        this.dispatch(job, `E_HOST_TIMEOUT: no result from ${job.record.host?.slice(0, 8)} in time`);
      }
    }
  }

  private dispatch(job: SubmittedJob, lastError?: string): void {
    if (job.record.attempts >= MAX_ATTEMPTS) {
      this.update(job, { state: 'failed', error: `E_ATTEMPTS_EXHAUSTED: ${MAX_ATTEMPTS} attempts failed; last: ${lastError ?? 'unknown'}` });
      return;
    }
    const candidates = this.deps.linkedPeers().filter((p) => p !== this.deps.self && !job.tried.has(p));
    const host = this.deps.rng.pick(candidates);
    if (!host) {
      const error = job.tried.size === 0
        ? 'E_NO_PEERS: no other peer is connected to run this job'
        : `E_NO_MORE_PEERS: every connected peer was tried; last: ${lastError ?? 'unknown'}`;
      this.update(job, { state: 'failed', error });
      return;
    }
    job.tried.add(host);
    job.dispatchedAt = this.deps.now();
    const r = job.request;
    const run: JobRunMessage = {
      type: 'run', jobId: job.record.id, name: r.name, args: [...r.args], env: { ...r.env }, stdin: r.stdin,
      timeLimitMs: r.timeLimitMs, memoryLimitMiB: r.memoryLimitMiB,
    };
    const sent = this.deps.sendFrame(host, encodeFrame({ p: 'job', v: JOB_WIRE_VERSION, m: run }, r.wasm));
    this.update(job, { state: 'running', host, attempts: job.record.attempts + 1 });
    if (!sent) this.dispatch(job, `E_HOST_LOST: link to ${host.slice(0, 8)} closed`);
    else this.deps.log('info', `job ${job.record.id} (${r.name}) sent to ${host.slice(0, 8)}`);
  }

  private async host(from: PeerId, msg: JobRunMessage, wasm: Uint8Array): Promise<void> {
    const refuse = (code: string, message: string): void => {
      this.deps.sendFrame(from, encodeFrame({ p: 'job', v: JOB_WIRE_VERSION, m: { type: 'reject', jobId: msg.jobId, code, message } }));
    };
    const key = `${from}:${msg.jobId}`;
    if (this.hosted.has(key)) return refuse('E_DUPLICATE_JOB', 'this job is already running here');
    if (this.hosted.size >= this.deps.maxConcurrentTasks) return refuse('E_HOST_BUSY', `already running ${this.hosted.size} tasks`);
    const runner = this.deps.runner();
    if (!runner) return refuse('E_NO_SANDBOX', 'no tab of this peer can start a sandbox right now');
    if (!(await runnerAvailable(runner))) return refuse('E_HOST_BUSY', 'this lender is not taking tasks right now (paused or at its CPU cap)');
    if (this.hosted.has(key)) return refuse('E_DUPLICATE_JOB', 'this job is already running here');
    if (this.hosted.size >= this.deps.maxConcurrentTasks) return refuse('E_HOST_BUSY', `already running ${this.hosted.size} tasks`);
    this.hosted.set(key, { jobId: msg.jobId, forPeer: from, name: msg.name, startedAt: this.deps.now() });
    this.deps.log('info', `running job ${msg.jobId} (${msg.name}) for ${from.slice(0, 8)}`);
    this.deps.changed();
    let result: WasiTaskResult;
    try {
      // A sandbox lives in a tab; if that tab closes mid-task its promise never settles, so bound the wait.
      result = await withDeadline(
        runner.run(
          { args: msg.args, env: msg.env, stdin: msg.stdin, timeLimitMs: msg.timeLimitMs, memoryLimitMiB: msg.memoryLimitMiB },
          wasm,
          msg.name,
          from,
        ),
        msg.timeLimitMs + SANDBOX_GRACE_MS,
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      result = { ok: false, code: 'E_SANDBOX_FAILED', message, stdout: '', stderr: '', durationMs: 0 };
    }
    this.hosted.delete(key);
    this.deps.sendFrame(from, encodeFrame({ p: 'job', v: JOB_WIRE_VERSION, m: { type: 'result', jobId: msg.jobId, result: fitResultForWire(result) } }));
    this.deps.changed();
  }

  private activeJobFrom(id: string, from: PeerId): SubmittedJob | undefined {
    const job = this.submitted.get(id);
    if (!job || job.record.host !== from || !isActive(job.record)) return undefined;
    return job;
  }

  private update(job: SubmittedJob, patch: Partial<JobRecord>): void {
    job.record = { ...job.record, ...patch };
    this.deps.changed();
  }

  private trim(): void {
    while (this.submitted.size > MAX_KEPT_JOBS) {
      const oldest = this.submitted.keys().next().value;
      if (oldest === undefined) break;
      this.submitted.delete(oldest);
    }
  }
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

function isActive(record: JobRecord): boolean {
  return record.state === 'dispatching' || record.state === 'running';
}

export function assertJobRequest(req: JobRequest): void {
  if (req.wasm.byteLength === 0) throw new NepheleError('E_NO_MODULE', 'choose a .wasm module to run');
}
