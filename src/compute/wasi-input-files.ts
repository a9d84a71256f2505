/**
 * Input files of a WASI task (the job model's `inputFiles`): validated paths and sizes, then laid out as an
 * in-memory directory tree that wasi-run preopens as `/` (the guest's working directory), read-only. Paths are
 * relative (`data/in.txt`), without `.`/`..` segments, empty segments or backslashes; a file cannot also be a
 * directory of another one.
 */
import { z } from 'zod';
import { Directory, File, type Inode } from '@bjorn3/browser_wasi_shim';
import { accept, reject, type Decoded } from '../core/errors.ts';

export interface WasiInputFile {
  /** Relative path inside the guest's preopened `/`. */
  readonly path: string;
  readonly bytes: Uint8Array;
}

export const WasiFileLimits = {
  MAX_FILES: 64,
  MAX_PATH_CHARS: 256,
  /** All input files of one task together. */
  MAX_TOTAL_BYTES: 64 * 1024 * 1024,
} as const;

export const InputFileErrors = { BAD_INPUT_FILE: 'E_BAD_INPUT_FILE', INPUT_TOO_LARGE: 'E_INPUT_TOO_LARGE' } as const;

const segment = /^(?!\.{1,2}$)[^/\\\0]+$/;

export const wasiInputPath = z.string().min(1).max(WasiFileLimits.MAX_PATH_CHARS)
  .refine((p) => p.split('/').every((s) => segment.test(s)), 'a relative path of plain segments (no leading /, ., .., empty segments or backslashes)');

export const wasiInputFilesSchema = z.array(z.object({ path: wasiInputPath, bytes: z.instanceof(Uint8Array) })).max(WasiFileLimits.MAX_FILES);

/** Checks sizes and that no path is both a file and a directory (or given twice). */
export function checkInputFiles(files: readonly WasiInputFile[]): Decoded<readonly WasiInputFile[]> {
  const total = files.reduce((n, f) => n + f.bytes.byteLength, 0);
  if (total > WasiFileLimits.MAX_TOTAL_BYTES) {
    return reject(InputFileErrors.INPUT_TOO_LARGE, `input files total ${total} bytes, over ${WasiFileLimits.MAX_TOTAL_BYTES}`);
  }
  const problem = inputPathProblem(files.map((f) => f.path));
  return problem === null ? accept(files) : reject(InputFileErrors.BAD_INPUT_FILE, problem);
}

/**
 * Why a set of input file paths cannot be laid out as one tree (a path given twice, or a file that is also the
 * directory of another), or null. Shared with x86 tasks, whose files go into the guest's working directory.
 */
export function inputPathProblem(paths: readonly string[]): string | null {
  const filePaths = new Set(paths);
  if (filePaths.size !== paths.length) return 'an input file path is given twice';
  for (const path of paths) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (filePaths.has(dir)) return `${dir} is both a file and the directory of ${path}`;
    }
  }
  return null;
}

/** The contents of the preopened `/`: nested Directories holding read-only Files. Call after checkInputFiles. */
export function inputTree(files: readonly WasiInputFile[]): Map<string, Inode> {
  interface Node { readonly files: Map<string, Uint8Array>; readonly dirs: Map<string, Node> }
  const root: Node = { files: new Map(), dirs: new Map() };
  for (const f of files) {
    const parts = f.path.split('/');
    let node = root;
    for (const name of parts.slice(0, -1)) {
      let next = node.dirs.get(name);
      if (!next) node.dirs.set(name, (next = { files: new Map(), dirs: new Map() }));
      node = next;
    }
    node.files.set(parts[parts.length - 1]!, f.bytes);
  }
  // Built bottom-up: a Directory links its subdirectories' `..` when it is constructed.
  const build = (node: Node): Map<string, Inode> => {
    const contents = new Map<string, Inode>();
    for (const [name, sub] of node.dirs) contents.set(name, new Directory(build(sub)));
    for (const [name, bytes] of node.files) contents.set(name, new File(bytes, { readonly: true }));
    return contents;
  };
  return build(root);
}
