/** Small, pure display helpers for the portal: short peer ids, durations, clock times. */

/** The first 8 hex digits of a peer id, the form log lines use too. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** A duration for people: `850 ms`, `2.3 s`, `4 m 05 s`, `1 h 02 m`. Negative or non-finite input shows `—`. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.floor(ms / 1000);
  const seconds = totalSeconds % 60;
  const totalMinutes = Math.floor(totalSeconds / 60);
  if (totalMinutes < 60) return `${totalMinutes} m ${pad2(seconds)} s`;
  return `${Math.floor(totalMinutes / 60)} h ${pad2(totalMinutes % 60)} m`;
}

/** Wall-clock time of day, `HH:MM:SS` (local time), for log lines and job submission times. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

function pad2(n: number): string {
  return n.toString().padStart(2, '0');
}
