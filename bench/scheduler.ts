/**
 * Scheduler benchmark: the publish/subscribe scheduler (UCComp host discovery; BOINC-style k-of-n quorum) over
 * Cyclon in the cycle-driven simulator, with SimulatedRuntime standing in for sandboxes (runs of 1–3 s, mean
 * 2 s; 2 slots per host). Figures: makespan against the work/capacity lower bound of the same job, the cost of
 * a 20 % crash against the same job without it, votes per task under 2-of-3 with 10 % independent liars
 * against fixed n-fold replication, wrong results accepted, announcement reach, and messages per task.
 * A run is picked up at the host's next tick (1 s cycles), so each holds its slot about 1 s longer than its
 * length: part of the gap to the lower bound is this stand-in, not the protocol.
 * Seeded: the same seed gives the same table.
 */
import { createRng } from '../src/core/rng.ts';
import { Cyclon } from '../src/protocols/peer-sampling/cyclon.ts';
import type { HostCapabilities } from '../src/protocols/scheduler/host-match.ts';
import { Scheduler } from '../src/protocols/scheduler/scheduler.ts';
import { honestDigest, SimulatedRuntime, type HostBehaviour } from '../src/protocols/scheduler/sim-runtime.ts';
import type { TaskOutcome } from '../src/protocols/scheduler/types.ts';
import { bootstrapRandom } from '../src/sim/churn.ts';
import { CycleEngine } from '../src/sim/cycle-engine.ts';
import { SimNetwork, type SimNode } from '../src/sim/network.ts';
import { memoryTransport, type Transport } from '../src/sim/transport.ts';
import { row, type BenchRow, type BenchSuite } from './table.ts';

const SEED = 2004;
const SLOTS = 2;
const MEAN_RUN_S = 2;
const CAPS: HostCapabilities = { cores: 4, ramMB: 4096, gpuMemoryMB: 0, diskMB: 10_000, kinds: ['wasi'] };
const MAX_CYCLES = 2_000;

interface Scenario {
  readonly hosts: number;
  readonly tasks: number;
  readonly crashFraction?: number;
  readonly liarFraction?: number;
  readonly redundancy?: { n: number; k: number };
}

interface Measured {
  readonly makespanS: number;
  readonly accepted: number;
  readonly wrongAccepted: number;
  readonly votesPerTask: number;
  readonly reach: number;
  readonly schedulerMessages: number;
}

export const schedulerSuite: BenchSuite = {
  name: 'scheduler',
  run(quick) {
    const hosts = quick ? 200 : 1_000;
    const tasks = quick ? 1_000 : 5_000;
    const base = measure({ hosts, tasks });
    const crash = measure({ hosts, tasks, crashFraction: 0.2 });
    const quorum = measure({ hosts, tasks: tasks / 5, liarFraction: 0.1, redundancy: { n: 3, k: 2 } });
    const setup = `N = ${hosts} hosts × ${SLOTS} slots, runs 1–3 s (+≤1 s pick-up), 1 s cycles, Cyclon view 12, fanout 4, ${hopsFor(hosts)} hops, seed ${SEED}`;
    return [
      row({
        figure: `makespan, ${tasks} tasks`, value: base.makespanS, unit: 's', reference: (tasks * MEAN_RUN_S) / (hosts * SLOTS),
        referenceSource: 'work / capacity lower bound of the same job (tasks × mean run ÷ slots)', n: hosts, conditions: setup, better: 'lower',
      }),
      row({
        figure: `makespan, ${tasks} tasks, 20% hosts crash mid-run`, value: crash.makespanS, unit: 's', reference: base.makespanS,
        referenceSource: 'same job without the crash, same run', n: hosts, conditions: `${setup}; lease = limit 5 s + grace 2 s`, better: 'lower',
      }),
      row({
        figure: 'tasks accepted after the crash', value: crash.accepted, unit: 'tasks', reference: tasks,
        referenceSource: 'all tasks of the job', n: hosts, conditions: setup, better: 'higher',
      }),
      row({
        figure: 'votes per task, 2-of-3, 10% liars', value: quorum.votesPerTask, unit: 'votes', reference: 3,
        referenceSource: 'fixed 3-fold replication (BOINC, Anderson GRID 2004)', n: hosts, conditions: `${setup}; ${tasks / 5} tasks`, better: 'lower',
      }),
      row({
        figure: 'wrong results accepted, 2-of-3, 10% liars', value: quorum.wrongAccepted, unit: 'tasks', reference: null,
        referenceSource: 'must be 0 with independent liars', n: hosts, conditions: `${setup}; ${tasks / 5} tasks`, better: 'lower',
      }),
      row({
        figure: 'hosts reached by the first announcement', value: base.reach, unit: 'fraction', reference: 1,
        referenceSource: 'every host', n: hosts, conditions: setup, better: 'higher',
      }),
      row({
        figure: 'scheduler messages per task', value: base.schedulerMessages / tasks, unit: 'messages', reference: null,
        referenceSource: 'announce + pull + lease + result + no-work', n: hosts, conditions: setup, better: 'lower',
      }),
    ];
  },
};

/** Enough hops for fanout^hops to cover N (a flood of 4 per hop). */
function hopsFor(n: number): number {
  return Math.min(8, Math.ceil(Math.log(n) / Math.log(4)));
}

function measure(s: Scenario): Measured {
  let schedulerMessages = 0;
  const inner = memoryTransport();
  const counting: Transport = {
    route(env) {
      if (env.protocol === 'scheduler') schedulerMessages++;
      return inner.route(env);
    },
  };
  const network = new SimNetwork({ seed: SEED, transport: counting });
  const engine = new CycleEngine(network, { cycleMs: 1_000 });
  const pick = createRng(SEED + 1);
  const make = (caps: HostCapabilities | null, behaviour: HostBehaviour) => () => {
    const cyclon = new Cyclon({ viewSize: 12, shuffleLength: 5 });
    const scheduler = new Scheduler({
      view: cyclon, capabilities: caps, limits: { maxConcurrentTasks: SLOTS, cpuCapPercent: 100, paused: false },
      leaseGraceMs: 2_000, announceIntervalMs: 3_000, pullRetryMs: 1_000, pullTimeoutMs: 4_000, fanout: 4, hopLimit: hopsFor(s.hosts),
    });
    return [cyclon, new SimulatedRuntime(scheduler, behaviour)];
  };
  const submitter = network.addNode(make(null, 'honest'));
  const hosts: SimNode[] = [];
  for (let i = 0; i < s.hosts; i++) hosts.push(network.addNode(make(CAPS, pick.next() < (s.liarFraction ?? 0) ? 'liar' : 'honest')));
  bootstrapRandom(network, 6);
  engine.run(20);
  schedulerMessages = 0;

  const app = (n: SimNode) => n.protocols[1] as SimulatedRuntime;
  const sched = app(submitter).scheduler;
  const submitted = sched.submit({ self: submitter.id, now: network.now, rng: submitter.rng }, {
    image: { kind: 'wasi', sha256: 'ab'.repeat(32), size: 4096 },
    tasks: Array.from({ length: s.tasks }, (_, i) => ({ args: ['work', String(i)], env: {}, stdin: '' })),
    timeLimitMs: 5_000,
    ...(s.redundancy ? { redundancy: s.redundancy } : {}),
  });
  if (!submitted.ok) throw new Error(submitted.reason);
  app(submitter).queue(submitted.effects);
  const start = network.now;

  engine.run(1);
  const reach = hosts.filter((h) => app(h).scheduler.subscribedJobs().includes(submitted.jobId) || app(h).ran.length > 0).length / hosts.length;
  const outcomes: TaskOutcome[] = [];
  let crashed = false;
  for (let c = 1; c < MAX_CYCLES && sched.jobProgress(submitted.jobId)!.status === 'running'; c++) {
    outcomes.push(...sched.takeOutcomes());
    if (!crashed && s.crashFraction && outcomes.length >= s.tasks / 3) {
      for (const h of network.rng.sample(hosts, Math.round(hosts.length * s.crashFraction))) network.removeNode(h.id);
      crashed = true;
    }
    engine.run(1);
  }
  outcomes.push(...sched.takeOutcomes());
  const accepted = outcomes.filter((o) => o.status === 'accepted');
  const wrongAccepted = accepted.filter((o) => o.digest !== honestDigest(submitted.jobId, o.task, ['work', String(o.task)])).length;
  const votes = sched.taskProgress(submitted.jobId).reduce((n, t) => n + t.votes, 0);
  return {
    makespanS: (network.now - start) / 1_000,
    accepted: accepted.length,
    wrongAccepted,
    votesPerTask: votes / Math.max(1, accepted.length),
    reach,
    schedulerMessages,
  };
}
