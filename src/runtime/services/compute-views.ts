/**
 * Turns the scheduler's progress and decided outcomes into what tabs see: the job and task views of the
 * compute snapshot and the per-task results of the `results` command. A task the vote accepted whose agreed
 * result is a guest failure (E_TIME_LIMIT, a trap) is shown as failed, with that code.
 */
import type { JobProgress, TaskOutcome, TaskProgress } from '../../protocols/scheduler/types.ts';
import {
  MAX_SNAPSHOT_STDOUT_CHARS, MAX_TASKS_IN_SNAPSHOT,
  type ComputeJobState, type ComputeJobView, type ComputeTaskResult, type ComputeTaskState, type ComputeTaskView,
} from './compute-types.ts';

export interface JobRecord {
  readonly jobId: string;
  readonly name: string;
  readonly submittedAt: number;
  /** Images this node pinned for the job (unpinned when the job is forgotten). */
  readonly images: readonly string[];
  readonly redundancy: { readonly n: number; readonly k: number };
  readonly outcomes: Map<number, TaskOutcome>;
}

function taskState(p: TaskProgress, outcome: TaskOutcome | undefined): ComputeTaskState {
  switch (p.state) {
    case 'accepted':
      return outcome?.result?.ok === false ? 'failed' : 'done';
    default:
      return p.state;
  }
}

function taskError(p: TaskProgress, outcome: TaskOutcome | undefined): string | null {
  if (p.error) return p.error;
  const r = outcome?.result;
  return r && !r.ok ? r.code ?? 'E_TASK_FAILED' : null;
}

export function jobView(record: JobRecord, progress: JobProgress, tasks: readonly TaskProgress[]): ComputeJobView {
  const counts = { pending: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
  const views: ComputeTaskView[] = [];
  for (const p of tasks) {
    const outcome = record.outcomes.get(p.task);
    const state = taskState(p, outcome);
    counts[state]++;
    if (views.length < MAX_TASKS_IN_SNAPSHOT) {
      views.push({
        task: p.task, state, votes: p.votes, exitCode: outcome?.result?.exitCode ?? null,
        stdout: (outcome?.result?.stdout ?? '').slice(0, MAX_SNAPSHOT_STDOUT_CHARS), error: taskError(p, outcome),
      });
    }
  }
  let state: ComputeJobState;
  if (progress.status === 'running') state = counts.done + counts.failed + counts.running === 0 ? 'pending' : 'running';
  else if (progress.status === 'cancelled') state = 'cancelled';
  else state = counts.failed > 0 || progress.status === 'failed' ? 'failed' : 'done';
  return {
    jobId: record.jobId, name: record.name, submittedAt: record.submittedAt, state, total: progress.total, ...counts,
    hosts: progress.hosts, redundancy: record.redundancy, suspects: progress.suspects, tasks: views,
  };
}

export function taskResults(record: JobRecord, tasks: readonly TaskProgress[]): ComputeTaskResult[] {
  return tasks.map((p) => {
    const o = record.outcomes.get(p.task);
    const r = o?.result ?? null;
    const status = p.state === 'accepted' || p.state === 'failed' || p.state === 'cancelled' ? p.state : 'pending';
    return {
      task: p.task, status, ok: r?.ok ?? null, exitCode: r?.exitCode ?? null, code: r?.code ?? null,
      stdout: r?.stdout ?? '', stderr: r?.stderr ?? '', digest: o?.digest ?? null, error: taskError(p, o),
      agreeing: o?.agreeing ?? [],
    };
  });
}
