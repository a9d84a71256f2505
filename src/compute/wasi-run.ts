/**
 * Runs one WASI preview1 command module to completion with @bjorn3/browser_wasi_shim, in whatever thread calls it
 * (a browser dedicated worker or a Node worker thread; the caller enforces the wall-clock limit by killing that
 * thread). Before instantiation the module is checked: a WebAssembly binary, importing only
 * wasi_snapshot_preview1 functions, exporting `_start` and `memory`; its memory maximum is capped at the task's
 * limit (wasm-memory-limit.ts). The guest gets argv (argv[0] = module name), env, stdin as fd 0, captured and
 * capped stdout/stderr, and an in-memory directory preopened as `/` holding the task's read-only input files
 * (wasi-input-files.ts).
 */
import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI, WASIProcExit } from '@bjorn3/browser_wasi_shim';
import {
  failedResult, validateWasiTaskSpec, WasiErrors, WasiLimits, type WasiTaskResult, type WasiTaskSpec,
} from './wasi-task.ts';
import { isWasmBinary, limitWasmMemory, pagesForMiB } from './wasm-memory-limit.ts';
import { inputTree } from './wasi-input-files.ts';

export const WASI_MODULE = 'wasi_snapshot_preview1';

/** Collects a stream's bytes up to a cap; what comes after is dropped and remembered as truncation. */
class CappedSink {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly cap: number) {}
  write(data: Uint8Array): void {
    const room = this.cap - this.size;
    if (data.byteLength > room) this.truncated = true;
    const kept = data.byteLength > room ? data.subarray(0, room) : data;
    if (kept.byteLength === 0) return;
    this.chunks.push(kept.slice());
    this.size += kept.byteLength;
  }
  text(): string {
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.byteLength;
    }
    return new TextDecoder('utf-8', { fatal: false }).decode(all);
  }
}

export interface ModuleCheck {
  readonly ok: true;
  readonly module: WebAssembly.Module;
}

/** Validates, memory-caps and compiles a module; the failure is a ready WasiTaskResult. */
export async function prepareModule(
  wasm: Uint8Array, memoryLimitMiB: number, knownImports: ReadonlySet<string>,
): Promise<ModuleCheck | { readonly ok: false; readonly code: string; readonly message: string }> {
  if (wasm.byteLength > WasiLimits.MAX_MODULE_BYTES) {
    return { ok: false, code: WasiErrors.MODULE_TOO_LARGE, message: `module of ${wasm.byteLength} bytes exceeds ${WasiLimits.MAX_MODULE_BYTES}` };
  }
  if (!isWasmBinary(wasm)) return { ok: false, code: WasiErrors.NOT_WASM, message: 'not a WebAssembly binary (bad magic number or version)' };
  const limited = limitWasmMemory(wasm, pagesForMiB(memoryLimitMiB));
  if (!limited.ok) return { ok: false, code: limited.code, message: limited.reason };
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(limited.value as Uint8Array<ArrayBuffer>);
  } catch (err) {
    return { ok: false, code: WasiErrors.NOT_WASM, message: `invalid module: ${errorText(err)}` };
  }
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== WASI_MODULE || imp.kind !== 'function' || !knownImports.has(imp.name)) {
      return {
        ok: false, code: WasiErrors.BAD_IMPORT,
        message: `import ${imp.module}.${imp.name} (${imp.kind}) is not a ${WASI_MODULE} function this host provides`,
      };
    }
  }
  const exports = WebAssembly.Module.exports(module);
  if (!exports.some((e) => e.name === '_start' && e.kind === 'function')) {
    return { ok: false, code: WasiErrors.NOT_COMMAND, message: 'the module exports no _start function (not a WASI command)' };
  }
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory')) {
    return { ok: false, code: WasiErrors.NOT_COMMAND, message: 'the module exports no memory' };
  }
  return { ok: true, module };
}

/**
 * Compiled modules a reused sandbox worker keeps between tasks of one job, by memory limit; an entry is used
 * only for the very same module bytes.
 */
export type ModuleCache = Map<number, { readonly wasm: Uint8Array; readonly check: ModuleCheck }>;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Runs a task here and now. Never throws: every failure is a result with a named code. With `cache`, a module
 * already checked and compiled for this memory limit is reused (a worker serving several tasks of one job).
 */
export async function runWasiTask(
  spec: WasiTaskSpec, wasm: Uint8Array, programName = 'main.wasm', cache?: ModuleCache,
): Promise<WasiTaskResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const checked = validateWasiTaskSpec(spec);
  if (!checked.ok) return failedResult(checked.code, checked.reason, elapsed());

  const stdout = new CappedSink(WasiLimits.MAX_OUTPUT_BYTES);
  const stderr = new CappedSink(WasiLimits.MAX_OUTPUT_BYTES);
  const fds = [
    new OpenFile(new File(new TextEncoder().encode(spec.stdin), { readonly: true })),
    new ConsoleStdout((b) => stdout.write(b)),
    new ConsoleStdout((b) => stderr.write(b)),
    new PreopenDirectory('/', inputTree(checked.value.files ?? [])),
  ];
  const args = [programName, ...spec.args];
  const wasi = new WASI(args, Object.entries(spec.env).map(([k, v]) => `${k}=${v}`), fds, { debug: false });
  patchArgSizes(wasi, args);

  const cached = cache?.get(spec.memoryLimitMiB);
  const prepared = cached && sameBytes(cached.wasm, wasm)
    ? cached.check
    : await prepareModule(wasm, spec.memoryLimitMiB, new Set(Object.keys(wasi.wasiImport)));
  if (!prepared.ok) return failedResult(prepared.code, prepared.message, elapsed());
  if (cache && prepared !== cached?.check) cache.set(spec.memoryLimitMiB, { wasm: wasm.slice(), check: prepared });

  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(prepared.module, { [WASI_MODULE]: wasi.wasiImport });
  } catch (err) {
    const code = err instanceof RangeError ? WasiErrors.MEMORY_LIMIT : WasiErrors.SANDBOX_FAILED;
    return failedResult(code, `instantiation failed: ${errorText(err)}`, elapsed());
  }

  let exitCode: number;
  try {
    exitCode = wasi.start(instance as unknown as Parameters<WASI['start']>[0]);
  } catch (err) {
    // WASIProcExit is handled inside start(); anything else is a trap or a host function refusing.
    const code = err instanceof WASIProcExit ? null : WasiErrors.TRAP;
    if (code === null) exitCode = (err as WASIProcExit).code;
    else return failedResult(code, trapText(err), elapsed(), stdout.text(), stderr.text());
  }
  const truncated = stdout.truncated || stderr.truncated;
  return {
    ok: true, exitCode: exitCode >>> 0, stdout: stdout.text(), stderr: stderr.text(), durationMs: elapsed(),
    ...(truncated ? { truncated: true } : {}),
  };
}

/** The shim 0.4.2 sizes argv with UTF-16 lengths; non-ASCII arguments need their UTF-8 byte length. */
function patchArgSizes(wasi: WASI, args: readonly string[]): void {
  const encoder = new TextEncoder();
  wasi.wasiImport['args_sizes_get'] = (argcPtr: number, bufSizePtr: number): number => {
    const view = new DataView(wasi.inst.exports.memory.buffer);
    view.setUint32(argcPtr, args.length, true);
    view.setUint32(bufSizePtr, args.reduce((n, a) => n + encoder.encode(a).byteLength + 1, 0), true);
    return 0;
  };
}

function trapText(err: unknown): string {
  if (err instanceof WebAssembly.RuntimeError) return `trap: ${err.message}`;
  if (err instanceof RangeError) return `trap: ${err.message}`;
  return `guest stopped: ${errorText(err)}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
