/**
 * The compute service (issue #5): the publish/subscribe scheduler (protocols/scheduler, after UCComp's
 * service publishing/subscription and BOINC's k-of-n validation) running in the live node. As a submitter it
 * publishes jobs, keeps their WASI image by sha256 and serves it to hosts (`images` frames); as a host it pulls
 * task copies under its lender's limits, fetches and verifies images it lacks, runs copies in the WASI sandbox
 * and reports digested results (compute-host-runs.ts). Images also travel through the DHT: the submitter stores
 * them with the storage service and the job's image carries their links; a host looks in its persistent cache
 * (IndexedDB in the browser), then the DHT, then asks the submitter (compute-images.ts). A WASI task's input
 * files travel inline or by sha256 (served by the submitter like the module) into the sandbox's preopened
 * directory. x86 jobs (a v86 domain named by image hashes) run the same way on hosts whose runner can run them (compute-x86.ts). When a quorum accepts a task, the submitter sends each
 * agreeing host a `credit` notice and hosts keep a ledger of accepted CPU-seconds (compute-credit.ts, issue #6).
 * A job may name an allocated slice: it is admitted only if the cloud service knows the slice, and only its members
 * run its tasks (compute-slices.ts). Commands: submit, cancel, setLimits, results, setPartner, testHooks.
 *
 * Test hook (off by default): `testHooks {lie: true}` makes this node corrupt the stdout of every task it runs
 * (a host "patched to lie"); the portal sends it when opened with `?lie=1`. It exists for the quorum test only.
 */
import type { PeerId } from '../../core/ids.ts';
import type { Effect, ProtocolContext } from '../../core/protocol.ts';
import { NepheleError } from '../../core/errors.ts';
import { Scheduler, type SchedulerOptions } from '../../protocols/scheduler/scheduler.ts';
import type { HostCapabilities, LenderLimits } from '../../protocols/scheduler/host-match.ts';
import { decodeSchedulerMessage, SCHEDULER_WIRE_VERSION, type SchedulerMessage } from '../../wire/scheduler.ts';
import { decodeImagesMessage, IMAGES_PROTOCOL } from '../../wire/images.ts';
import { parseJobSpec, type JobImage } from '../../protocols/scheduler/job-model.ts';
import type { NodeService, ServiceDeps, ServiceFactory } from '../node-service.ts';
import type { ProtocolSlot } from '../protocol-host.ts';
import type { GuestKind } from '../job-service.ts';
import { ImageFetcher, ImageStore, sha256Hex } from './compute-images.ts';
import { defaultImageCacheStore, ImageCache } from './compute-image-cache.ts';
import { withImageLinks } from './compute-image-dht.ts';
import type { ChunkStore } from '../../store/chunk-store.ts';
import { HostRuns } from './compute-host-runs.ts';
import { RunnerProbe } from './compute-runner-probe.ts';
import { corruptStdout } from './compute-result.ts';
import {
  checkModule, checkOrigin, ComputeCommandErrors, jobArgs, limitsArgs, parseArgs, partnerArgs, submitArgs, testHookArgs,
} from './compute-commands.ts';
import { jobView, taskResults, type JobRecord } from './compute-views.ts';
import { COMPUTE_SERVICE, type ComputeSnapshot, type ComputeTaskResult } from './compute-types.ts';
import { CREDIT_PROTOCOL, decodeCreditNotices } from './compute-credit-wire.ts';
import { defaultCreditStore, type CreditStore } from './compute-credit-store.ts';
import { CreditDesk } from './compute-credit-desk.ts';
import { x86JobHashes } from './compute-x86.ts';
import { inputFileHashes } from './compute-input-files.ts';
import { SliceWatch, withPlacement } from './compute-slices.ts';

export interface ComputeServiceOptions {
  /** What this node offers as a host; detected from the platform by default (detectCapabilities). */
  readonly capabilities?: HostCapabilities;
  /** The lender's limits at start; default 2 concurrent tasks, 100 % CPU, not paused. */
  readonly limits?: LenderLimits;
  readonly scheduler?: Omit<SchedulerOptions, 'view' | 'capabilities' | 'limits'>;
  /** Where the credit ledger persists; default IndexedDB where it exists, else nowhere (defaultCreditStore). */
  readonly creditStore?: (self: PeerId) => CreditStore | null;
  /** Where fetched images persist; default IndexedDB where it exists, else memory (compute-image-cache.ts). */
  readonly imageCache?: (self: PeerId) => ChunkStore;
  /** Test hook: false makes this node refuse every image request (hosts must use the DHT). Default true. */
  readonly serveImages?: boolean;
}

export const DEFAULT_COMPUTE_LIMITS: LenderLimits = { maxConcurrentTasks: 2, cpuCapPercent: 100, paused: false };
/** Jobs remembered by a submitter; the oldest finished ones are forgotten beyond this. */
const MAX_KEPT_JOBS = 50;
/** The newest jobs whose task lists the snapshot carries. */
const JOBS_WITH_TASKS_IN_SNAPSHOT = 5;

/** Cores from navigator.hardwareConcurrency, RAM from navigator.deviceMemory where the platform has them. */
export function detectCapabilities(): HostCapabilities {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: unknown; deviceMemory?: unknown } }).navigator;
  const cores = typeof nav?.hardwareConcurrency === 'number' ? nav.hardwareConcurrency : 2;
  const memoryGiB = typeof nav?.deviceMemory === 'number' ? nav.deviceMemory : 4;
  return {
    cores: Math.max(1, Math.min(1024, Math.floor(cores))),
    ramMB: Math.max(256, Math.min(1_048_576, Math.round(memoryGiB * 1024))),
    gpuMemoryMB: 0,
    diskMB: 1024,
    kinds: ['wasi'],
  };
}

export function computeService(options: ComputeServiceOptions = {}): ServiceFactory {
  return (deps) => new ComputeService(deps, options);
}

export class ComputeService implements NodeService {
  readonly name = COMPUTE_SERVICE;
  readonly slots: readonly ProtocolSlot<any>[];
  readonly frameProtocols = [IMAGES_PROTOCOL, CREDIT_PROTOCOL] as const;
  private readonly scheduler: Scheduler;
  private readonly capabilities: HostCapabilities;
  private readonly store = new ImageStore();
  /** Storage links of images this node stored, by sha256 (reused by later jobs of the same image). */
  private readonly imageLinks = new Map<string, string>();
  private readonly fetcher: ImageFetcher;
  private readonly runs: HostRuns;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly credit: CreditDesk;
  private readonly slices: SliceWatch;
  private hostKinds: readonly GuestKind[] | null = null;
  private readonly probe: RunnerProbe;
  private lying = false;
  private drainQueued = false;

  constructor(private readonly deps: ServiceDeps, options: ComputeServiceOptions) {
    this.capabilities = options.capabilities ?? detectCapabilities();
    this.scheduler = new Scheduler({ ...options.scheduler, view: deps.view, capabilities: null, limits: options.limits ?? DEFAULT_COMPUTE_LIMITS });
    const imageCache = new ImageCache((options.imageCache ?? defaultImageCacheStore)(deps.self), undefined, deps.log);
    this.fetcher = new ImageFetcher(this.store, deps, { cache: imageCache, serve: options.serveImages ?? true });
    this.runs = new HostRuns({
      self: deps.self, now: deps.now, runner: deps.runner, fetcher: this.fetcher, log: deps.log, changed: deps.changed,
      complete: (done) => {
        for (const { request } of done) this.credit.reported(request);
        this.schedule((ctx) => this.scheduler.completeRuns(ctx, done.map(({ request, result }) => ({ key: request.key, result }))));
      },
      abandon: (key, code) => this.schedule((ctx) => this.scheduler.abandonRun(ctx, key, code)),
      lie: () => (this.lying ? (stdout: string) => corruptStdout(stdout, deps.self) : null),
    });
    // The scheduler is pure; this wrapper lets the service act on what it decided right after each step.
    const scheduler = this.scheduler;
    const after = <T>(effects: T): T => {
      this.queueDrain();
      return effects;
    };
    this.slots = [{
      version: SCHEDULER_WIRE_VERSION,
      decode: decodeSchedulerMessage,
      protocol: {
        name: scheduler.name,
        onTick: (ctx) => after(scheduler.onTick(ctx)),
        onMessage: (ctx, from, msg: SchedulerMessage) => after(scheduler.onMessage(ctx, from, msg)),
        onPeerDown: (ctx, peer) => after(scheduler.onPeerDown(ctx, peer)),
      },
    }];
    this.credit = new CreditDesk(deps, (options.creditStore ?? defaultCreditStore)(deps.self));
    this.slices = new SliceWatch(deps, {
      hostSlice: (slice) => { if (this.hostKinds) this.scheduler.setCapabilities({ ...this.capabilities, kinds: this.hostKinds, slice }); },
      members: (slice, members) => this.schedule((ctx) => this.scheduler.setSliceMembers(ctx, slice, members)),
      activeSlices: () => this.scheduler.activeSlices(),
      gone: (slice, error) => this.schedule((ctx) => this.scheduler.failSlice(ctx, slice, error)),
    });
    this.probe = new RunnerProbe(deps, (kinds) => this.setHosting(kinds));
    this.updateHosting();
  }

  onFrame(from: PeerId, envelope: { readonly p: string; readonly v: number; readonly m: unknown }, body: Uint8Array): void {
    if (envelope.p === CREDIT_PROTOCOL) {
      const notices = decodeCreditNotices(envelope.v, envelope.m, body);
      if (!notices.ok) throw new NepheleError(notices.code, notices.reason);
      for (const notice of notices.value) this.credit.onNotice(from, notice);
      return;
    }
    const msg = decodeImagesMessage(envelope.v, envelope.m, body);
    if (!msg.ok) throw new NepheleError(msg.code, msg.reason);
    this.fetcher.onMessage(from, msg.value, body);
  }

  tick(): void {
    this.fetcher.tick();
    this.slices.tick();
    this.updateHosting();
  }

  peerUp(peer: PeerId): void {
    this.fetcher.peerUp(peer);
    this.credit.peerUp(peer);
  }

  peerDown(peer: PeerId): void {
    this.fetcher.peerDown(peer);
  }

  runningTasks(): number {
    return this.runs.active();
  }

  localValues(): Readonly<Record<string, number>> {
    const limit = this.scheduler.limits.paused ? 0 : this.scheduler.limits.maxConcurrentTasks;
    return { load: limit > 0 ? this.runs.active() / limit : 1, ...this.credit.localValues() };
  }

  async command(command: string, args: unknown): Promise<unknown> {
    switch (command) {
      case 'submit':
        return this.submit(args);
      case 'cancel': {
        const { jobId } = parseArgs(jobArgs, command, args);
        this.requireJob(jobId);
        this.schedule((ctx) => this.scheduler.cancel(ctx, jobId));
        return { jobId };
      }
      case 'setLimits': {
        const l = parseArgs(limitsArgs, command, args);
        const limits: LenderLimits = { maxConcurrentTasks: l.maxConcurrent, cpuCapPercent: l.cpuCapPercent, paused: l.paused };
        this.schedule((ctx) => this.scheduler.setLimits(ctx, limits));
        this.deps.log('info', `compute: lender limits ${l.maxConcurrent} tasks, ${l.cpuCapPercent}% CPU${l.paused ? ', paused' : ''}`);
        return this.limitsView();
      }
      case 'results': {
        const { jobId } = parseArgs(jobArgs, command, args);
        return this.results(jobId);
      }
      case 'setPartner': {
        const { origin } = parseArgs(partnerArgs, command, args);
        return { partner: this.credit.setPartner(origin === null ? null : checkOrigin(origin)) };
      }
      case 'testHooks': {
        this.lying = parseArgs(testHookArgs, command, args).lie;
        this.deps.log('warn', `compute: test hook: this node ${this.lying ? 'now LIES about' : 'honestly reports'} task output`);
        this.deps.changed();
        return { lying: this.lying };
      }
      default:
        throw new NepheleError(ComputeCommandErrors.UNKNOWN_COMMAND, `the compute service has no command "${command}"`);
    }
  }

  snapshot(): ComputeSnapshot {
    const jobs = [...this.jobs.values()].reverse().flatMap((record, index) => {
      const progress = this.scheduler.jobProgress(record.jobId);
      if (!progress) return [];
      const view = withPlacement(jobView(record, progress, this.scheduler.taskProgress(record.jobId)), this.scheduler.jobSpec(record.jobId));
      // Snapshots cross to every tab several times a second: older jobs travel without their task lists.
      return [index < JOBS_WITH_TASKS_IN_SNAPSHOT ? view : { ...view, tasks: [] }];
    });
    const { cores, ramMB, gpuMemoryMB, diskMB } = this.capabilities;
    return {
      limits: this.limitsView(), capabilities: { cores, ramMB, gpuMemoryMB, diskMB }, canHost: this.canHost, jobs,
      hosting: this.runs.views(),
      stats: {
        ran: this.runs.ran, abandoned: this.runs.abandoned, imagesFetched: this.fetcher.fetched,
        imagesServed: this.fetcher.served, imagesCached: this.store.stats().cached,
        imagesFrom: { ...this.fetcher.from }, imagesDhtFailed: this.fetcher.dhtFailures,
      },
      lying: this.lying,
      kinds: this.hostKinds ?? [],
      credit: this.credit.view(),
    };
  }

  results(jobId: string): ComputeTaskResult[] {
    const record = this.requireJob(jobId);
    return taskResults(record, this.scheduler.taskProgress(jobId));
  }

  private async submit(args: unknown): Promise<{ jobId: string }> {
    const { spec, image, files } = parseArgs(submitArgs, 'submit', args);
    await this.slices.admit(spec);
    if ((spec.image as { kind?: unknown } | undefined)?.kind === 'x86') return this.submitX86(spec, files ?? []);
    if (!image) throw new NepheleError(ComputeCommandErrors.NO_MODULE, 'choose a .wasm module to run');
    checkModule(image);
    const sha256 = await sha256Hex(image);
    const declared = spec.image as { sha256?: unknown } | undefined;
    if (declared !== undefined && declared.sha256 !== sha256) {
      throw new NepheleError(ComputeCommandErrors.IMAGE_MISMATCH, 'spec.image.sha256 is not the hash of the module bytes');
    }
    const full = { ...spec, image: { kind: 'wasi', sha256, size: image.byteLength } };
    const served = new Map<string, Uint8Array>([[sha256, image]]);
    // Input files named by sha256 are served by this node like the module: each must be among `files`.
    const parsed = parseJobSpec(full);
    if (parsed.ok) {
      const wanted = inputFileHashes(parsed.value.tasks);
      if (wanted.size > 0) {
        const byHash = new Map<string, Uint8Array>();
        for (const file of files ?? []) byHash.set(await sha256Hex(file), file);
        for (const hash of wanted) {
          const bytes = byHash.get(hash);
          if (!bytes) throw new NepheleError(ComputeCommandErrors.IMAGE_MISSING, `a task names input file ${hash.slice(0, 12)}… but no file given hashes to it`);
          served.set(hash, bytes);
        }
      }
    }
    return this.publish(full, served);
  }

  /** An x86 job: every image its domain and tasks name must be among `files`; this node serves them. */
  private async submitX86(spec: Record<string, unknown>, files: readonly Uint8Array[]): Promise<{ jobId: string }> {
    const parsed = parseJobSpec(spec);
    if (!parsed.ok) throw new NepheleError(parsed.code, parsed.reason);
    const byHash = new Map<string, Uint8Array>();
    for (const file of files) byHash.set(await sha256Hex(file), file);
    const needed = new Map<string, Uint8Array>();
    for (const hash of x86JobHashes(parsed.value.image as Extract<JobImage, { kind: 'x86' }>, parsed.value.tasks)) {
      const bytes = byHash.get(hash);
      if (!bytes) throw new NepheleError(ComputeCommandErrors.IMAGE_MISSING, `the job names image ${hash.slice(0, 12)}… but no file given hashes to it`);
      needed.set(hash, bytes);
    }
    return this.publish(spec, needed);
  }

  private async publish(spec: Record<string, unknown>, images: ReadonlyMap<string, Uint8Array>): Promise<{ jobId: string }> {
    const full = await withImageLinks(spec, images, this.deps.command, this.imageLinks, this.deps.log);
    let submitted: ReturnType<Scheduler['submit']> | null = null;
    this.deps.run('scheduler', (ctx) => {
      submitted = this.scheduler.submit(ctx, full);
      return submitted.ok ? submitted.effects : [];
    });
    const s = submitted as ReturnType<Scheduler['submit']> | null;
    if (!s) throw new NepheleError('E_SUBMIT_FAILED', 'the scheduler did not take the job');
    if (!s.ok) throw new NepheleError(s.code, s.reason);
    const parsed = this.scheduler.jobSpec(s.jobId)!;
    for (const [hash, bytes] of images) this.store.pin(hash, bytes.slice());
    this.jobs.set(s.jobId, {
      jobId: s.jobId, name: parsed.name ?? 'job', submittedAt: this.deps.now(), images: [...images.keys()],
      redundancy: parsed.redundancy, outcomes: new Map(),
    });
    this.trimJobs();
    this.deps.log('info', `compute: published ${parsed.image.kind} job ${s.jobId} (${parsed.tasks.length} tasks, ${parsed.redundancy.k}-of-${parsed.redundancy.n})`);
    this.deps.changed();
    return { jobId: s.jobId };
  }

  private requireJob(jobId: string): JobRecord {
    const record = this.jobs.get(jobId);
    if (!record) throw new NepheleError(ComputeCommandErrors.UNKNOWN_JOB, `no job ${jobId} was submitted here`);
    return record;
  }

  /** Runs a scheduler API call with a context, carries out its effects, then acts on what it decided. */
  private schedule(fn: (ctx: ProtocolContext) => Effect<SchedulerMessage>[]): void {
    this.deps.run('scheduler', fn);
    this.queueDrain();
  }

  private queueDrain(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    queueMicrotask(() => {
      this.drainQueued = false;
      this.drain();
    });
  }

  /** Starts leased copies (a batch per free slot), drops cancelled ones and records decided outcomes. */
  private drain(): void {
    for (const key of this.scheduler.takeCancelledRuns()) this.runs.cancel(key);
    for (const batch of this.scheduler.takeRunBatches()) {
      for (const request of batch) this.fetcher.learnLinks(request.image.links);
      this.runs.startBatch(batch);
    }
    const outcomes = this.scheduler.takeOutcomes();
    for (const o of outcomes) this.jobs.get(o.jobId)?.outcomes.set(o.task, o);
    this.credit.grant(outcomes);
    const late = this.scheduler.takeLateSuspects();
    for (const { jobId, host } of late) this.deps.log('warn', `compute: job ${jobId}: host ${host.slice(0, 12)}… disagreed after the quorum closed`);
    if (outcomes.length > 0 || late.length > 0) this.deps.changed();
  }

  /** A node lends only while one of its tabs (or its process) can start a sandbox that is taking tasks (compute-runner-probe.ts). */
  private updateHosting(): void {
    this.probe.update(this.hostKinds !== null);
  }

  private setHosting(kinds: readonly GuestKind[] | null): void {
    const same = kinds === null || this.hostKinds === null
      ? kinds === this.hostKinds
      : kinds.length === this.hostKinds.length && kinds.every((k) => this.hostKinds!.includes(k));
    if (same) return;
    this.hostKinds = kinds;
    this.scheduler.setCapabilities(kinds ? { ...this.capabilities, kinds, slice: this.slices.hostSlice } : null);
    this.deps.changed();
  }

  private get canHost(): boolean {
    return this.hostKinds !== null;
  }

  private limitsView(): ComputeSnapshot['limits'] {
    const l = this.scheduler.limits;
    return { maxConcurrent: l.maxConcurrentTasks, cpuCapPercent: l.cpuCapPercent, paused: l.paused };
  }

  private trimJobs(): void {
    for (const [jobId, record] of this.jobs) {
      if (this.jobs.size <= MAX_KEPT_JOBS) break;
      if (!this.scheduler.forgetJob(jobId)) continue;
      this.jobs.delete(jobId);
      for (const hash of record.images) this.store.unpin(hash);
    }
  }
}
