/**
 * A host's view of a WASI task's input files (the job model's `inputFiles`): inline text becomes UTF-8 bytes,
 * files named by sha256 are fetched from the submitter (who pinned them at submit) and verified by hash like
 * images (compute-images.ts). Sizes and paths are checked again by the sandbox (wasi-input-files.ts).
 */
import type { PeerId } from '../../core/ids.ts';
import type { TaskSpec } from '../../protocols/scheduler/job-model.ts';
import type { WasiInputFile } from '../../compute/wasi-input-files.ts';

export type FetchByHash = (sha256: string, from: PeerId) => Promise<Uint8Array>;

/** The bytes of every input file of `task`; rejects (with the fetcher's coded error) if one cannot be had. */
export async function resolveInputFiles(task: TaskSpec, submitter: PeerId, fetch: FetchByHash): Promise<WasiInputFile[]> {
  const out: WasiInputFile[] = [];
  const encoder = new TextEncoder();
  for (const f of task.inputFiles ?? []) {
    out.push({ path: f.path, bytes: 'inline' in f ? encoder.encode(f.inline) : await fetch(f.sha256, submitter) });
  }
  return out;
}

/** sha256 of every content-addressed input file the tasks name (the submitter must hold and serve them). */
export function inputFileHashes(tasks: readonly TaskSpec[]): Set<string> {
  const hashes = new Set<string>();
  for (const t of tasks) for (const f of t.inputFiles ?? []) if ('sha256' in f) hashes.add(f.sha256);
  return hashes;
}
