/**
 * Cancel by run id: every sandbox run started with a `runId` is listed here while its worker lives, so the host
 * can kill it at once when the scheduler withdraws the task (job cancelled, lease revoked, lender paused)
 * instead of letting it run to its time limit. A runner exposes `cancelSandboxRun` as its `cancel` method.
 */
const live = new Map<string, () => void>();

/** Lists a run; the returned function unlists it (called when the run ends). */
export function registerSandboxRun(runId: string, kill: () => void): () => void {
  live.set(runId, kill);
  return () => {
    if (live.get(runId) === kill) live.delete(runId);
  };
}

/** Kills the run's worker now; its promise resolves with a cancelled result. False if no such run is live. */
export function cancelSandboxRun(runId: string): boolean {
  const kill = live.get(runId);
  if (!kill) return false;
  live.delete(runId);
  kill();
  return true;
}

/** Run ids whose workers are alive (for tests and the lender's view). */
export function liveSandboxRuns(): string[] {
  return [...live.keys()];
}
