/**
 * From a sandbox's WasiTaskResult to the RunResult a host reports to the scheduler: stdout and stderr are cut
 * to the job's output limits (in UTF-8 bytes), the digest is sha256 over exit code, error code and the cut
 * outputs (what quorum voting compares; durations and messages differ between honest hosts and are left out),
 * and the outputs carried in the result message are cut again to what the wire allows.
 */
import type { WasiTaskResult } from '../../compute/wasi-task.ts';
import type { OutputLimits } from '../../protocols/scheduler/job-model.ts';
import type { RunResult } from '../../protocols/scheduler/types.ts';
import { MAX_RESULT_OUTPUT_CHARS } from '../../wire/scheduler.ts';
import { sha256Hex } from './compute-images.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes` (never splits a character). */
export function cutUtf8(text: string, maxBytes: number): string {
  const bytes = encoder.encode(text);
  if (bytes.byteLength <= maxBytes) return text;
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}

/** The digest of a result, over its outcome and capped outputs. */
export async function resultDigest(r: { ok: boolean; exitCode: number | null; code: string | null; stdout: string; stderr: string }): Promise<string> {
  const canonical = JSON.stringify([r.ok, r.exitCode, r.code, r.stdout, r.stderr]);
  return `sha256:${await sha256Hex(encoder.encode(canonical))}`;
}

/**
 * Test hook (off unless the node was told to lie): a host "patched to lie" reports a corrupted stdout with a
 * digest computed honestly over the lie, as a cheating volunteer would.
 */
export function corruptStdout(stdout: string, self: string): string {
  return `forged by ${self.slice(0, 8)}: ${[...stdout].reverse().join('')}`;
}

export async function toRunResult(raw: WasiTaskResult, limits: OutputLimits, lie: ((stdout: string) => string) | null = null): Promise<RunResult> {
  let stdout = cutUtf8(raw.stdout, limits.stdoutBytes);
  const stderr = cutUtf8(raw.stderr, limits.stderrBytes);
  if (lie) stdout = lie(stdout);
  const outcome = raw.ok
    ? { ok: true, exitCode: raw.exitCode >>> 0, code: null, stdout, stderr }
    : { ok: false, exitCode: null, code: /^E_[A-Z0-9_]{1,62}$/.test(raw.code) ? raw.code : 'E_SANDBOX_FAILED', stdout, stderr };
  const digest = await resultDigest(outcome);
  return {
    ...outcome,
    stdout: stdout.slice(0, MAX_RESULT_OUTPUT_CHARS),
    stderr: stderr.slice(0, MAX_RESULT_OUTPUT_CHARS),
    durationMs: Math.max(0, Math.min(1e9, raw.durationMs)),
    digest,
  };
}
