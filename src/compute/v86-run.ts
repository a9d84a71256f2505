/**
 * Runs one x86 task in one v86 emulator: verifies the images against their sha256 names, boots the domain (or
 * restores its booted snapshot), hands the guest its command and files — program, args, stdin and the task's input
 * files in its working directory (x86-guest-protocol.ts) — collects serial
 * output until the exit marker, and stops at the time limit. Runs wherever v86 does (a Node worker thread, a
 * browser worker); the caller owns that worker and kills it as a backstop, since v86's `destroy` does not free
 * wasm memory promptly (docs V86.md): one emulator per worker.
 */
import { V86 } from 'v86';
import { exactBuffer, v86OptionsFor, type X86BootBuffers } from './v86-options.ts';
import {
  LINUX_OUTPUT_DIR, LINUX_RUN_COMMAND, SerialCollector, linuxInputLayout, linuxJobFiles, multibootCommandLine,
} from './x86-guest-protocol.ts';
import { WasiFileLimits } from './wasi-input-files.ts';
import {
  failedX86Result, rejectionCode, requiredImages, validateX86TaskSpec, X86Errors, X86Limits,
  type X86ErrorCode, type X86Images, type X86TaskResult, type X86TaskSpec,
} from './x86-task.ts';

export interface V86RunEnv {
  /** Path (Node) or URL (browser) of v86.wasm. */
  readonly wasmPath: string;
  /** Called once v86 has loaded (wasm fetched, images in place), before the guest runs: a browser worker
   * locks down its network and storage globals here. */
  readonly onEmulatorLoaded?: () => void;
}

/** Checks that every image the spec needs is present and hashes to its name. */
export async function verifyImages(spec: X86TaskSpec, images: X86Images): Promise<{ code: X86ErrorCode; message: string } | null> {
  for (const hash of requiredImages(spec)) {
    const bytes = images.get(hash);
    if (!bytes) return { code: X86Errors.IMAGE_MISSING, message: `no image with sha256 ${hash}` };
    if (bytes.byteLength > X86Limits.MAX_IMAGE_BYTES) return { code: X86Errors.BAD_SPEC, message: `image ${hash} is too large` };
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    if (hex !== hash) return { code: X86Errors.IMAGE_MISMATCH, message: `image named ${hash} hashes to ${hex}` };
  }
  return null;
}

/** A task's input files as bytes (inline text as UTF-8, the rest from the verified images), or why they are too large. */
function inputFileBytes(spec: X86TaskSpec, images: X86Images): { path: string; bytes: Uint8Array }[] | string {
  const encoder = new TextEncoder();
  const files = (spec.inputFiles ?? []).map((f) => ({ path: f.path, bytes: 'inline' in f ? encoder.encode(f.inline) : images.get(f.sha256)! }));
  const total = files.reduce((n, f) => n + f.bytes.byteLength, 0);
  return total > WasiFileLimits.MAX_TOTAL_BYTES ? `input files total ${total} bytes, over ${WasiFileLimits.MAX_TOTAL_BYTES}` : files;
}

/** The part of v86's 9p file system (lib/filesystem.js) that makes directories: its public API has no mkdir. */
interface Fs9pDirectories {
  SearchPath(path: string): { readonly id: number; readonly parentid: number };
  CreateDirectory(name: string, parentid: number): number;
}

/** Puts the input files into the guest's working directory in the 9p share, creating the directories they need. */
async function writeInputFiles(emulator: V86, files: readonly { path: string; bytes: Uint8Array }[]): Promise<void> {
  const layout = linuxInputLayout(files.map((f) => f.path));
  const fs = (emulator as unknown as { fs9p?: Partial<Fs9pDirectories> }).fs9p;
  if (typeof fs?.SearchPath !== 'function' || typeof fs.CreateDirectory !== 'function') throw new Error('this v86 build has no 9p file system to put input files in');
  for (const dir of layout.dirs) {
    const found = fs.SearchPath(dir);
    if (found.id === -1) fs.CreateDirectory(dir.slice(dir.lastIndexOf('/') + 1), found.parentid);
  }
  for (let i = 0; i < files.length; i++) await emulator.create_file(layout.files[i]!, files[i]!.bytes);
}

function bootBuffers(spec: X86TaskSpec, images: X86Images): X86BootBuffers {
  const d = spec.domain;
  const get = (h: string | undefined): ArrayBuffer | undefined => {
    const bytes = h === undefined ? undefined : images.get(h);
    return bytes ? exactBuffer(bytes) : undefined;
  };
  if (d.snapshot) return { snapshot: get(d.snapshot), disk: get(d.disk) };
  return { kernel: get(d.kernel), initrd: get(d.initrd), bios: get(d.bios), vgaBios: get(d.vgaBios), disk: get(d.disk) };
}

export async function runX86Guest(input: unknown, images: X86Images, env: V86RunEnv): Promise<X86TaskResult> {
  const t0 = performance.now();
  const since = (): number => Math.round(performance.now() - t0);
  const checked = validateX86TaskSpec(input);
  if (!checked.ok) return failedX86Result(rejectionCode(checked.code), checked.reason);
  const spec = checked.value;
  const bad = await verifyImages(spec, images);
  if (bad) return failedX86Result(bad.code, bad.message, since());
  const inputFiles = inputFileBytes(spec, images);
  if (typeof inputFiles === 'string') return failedX86Result(X86Errors.BAD_SPEC, inputFiles, since());

  const restoring = spec.domain.snapshot !== undefined;
  let emulator: V86;
  try {
    emulator = new V86(v86OptionsFor(spec.domain, bootBuffers(spec, images), env.wasmPath));
  } catch (err) {
    return failedX86Result(X86Errors.EMULATOR_FAILED, `v86 did not start: ${String(err)}`, since());
  }

  const serial = new SerialCollector(X86Limits.MAX_SERIAL_BYTES);
  let readyAt = 0;
  let settled = false;
  let resolveResult: (r: X86TaskResult) => void = () => {};
  const result = new Promise<X86TaskResult>((resolve) => { resolveResult = resolve; });

  const finish = (r: X86TaskResult): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    void emulator.stop().catch(() => {}).then(() => emulator.destroy()).catch(() => {});
    resolveResult(r);
  };
  const fail = (code: X86ErrorCode, message: string): void => finish(failedX86Result(code, message, since(), serial.text()));
  const timer = setTimeout(() => fail(X86Errors.TIME_LIMIT, `killed after ${spec.timeLimitMs} ms`), spec.timeLimitMs);

  /** Writes the job's 9p files (Linux), then sends the command that starts it. */
  const startJob = async (): Promise<void> => {
    readyAt = since();
    if (spec.domain.boot === 'linux') {
      const program = images.get(spec.program ?? '');
      if (!program) throw new Error('program image vanished');
      for (const [path, bytes] of linuxJobFiles(program, spec.args, spec.stdin)) await emulator.create_file(path, bytes);
      if (inputFiles.length > 0) await writeInputFiles(emulator, inputFiles);
    }
    if (!emulator.is_running()) await emulator.run();
    serial.startCapture();
    emulator.serial0_send(spec.domain.boot === 'linux' ? LINUX_RUN_COMMAND : multibootCommandLine(spec.args));
  };

  const collectFiles = async (): Promise<Record<string, string> | undefined> => {
    if (!spec.outputFiles?.length) return undefined;
    const files: Record<string, string> = {};
    for (const name of spec.outputFiles) {
      try {
        const bytes = await emulator.read_file(`${LINUX_OUTPUT_DIR}/${name}`);
        if (bytes.byteLength <= X86Limits.MAX_OUTPUT_FILE_BYTES) files[name] = new TextDecoder().decode(bytes);
      } catch {
        // A file the program did not write is simply absent from the result.
      }
    }
    return files;
  };

  emulator.add_listener('serial0-output-byte', (byte: number) => {
    if (settled) return;
    const event = serial.push(byte, since());
    if (!event) return;
    if (event.type === 'overflow') {
      fail(X86Errors.OUTPUT_LIMIT, `serial output passed ${X86Limits.MAX_SERIAL_BYTES} bytes`);
    } else if (event.type === 'ready') {
      if (restoring) return fail(X86Errors.GUEST_PROTOCOL, 'a restored guest announced READY again');
      startJob().catch((err: unknown) => fail(X86Errors.EMULATOR_FAILED, `could not hand the job to the guest: ${String(err)}`));
    } else {
      const exitMs = since();
      void emulator.stop().then(collectFiles).then((files) => finish({
        ok: true,
        exitStatus: event.status,
        serial: serial.text(),
        durationMs: exitMs,
        timings: { readyMs: readyAt, firstOutputMs: serial.firstOutputAt, exitMs },
        restoredFromSnapshot: restoring,
        ...(files ? { files } : {}),
      })).catch((err: unknown) => fail(X86Errors.EMULATOR_FAILED, `could not read the guest's files: ${String(err)}`));
    }
  });

  emulator.add_listener('emulator-loaded', () => {
    if (settled) return;
    env.onEmulatorLoaded?.();
    // A snapshot was taken while the guest waited for its command: hand it over at once. A cold boot runs
    // until the guest prints READY.
    const start = restoring ? startJob() : emulator.run();
    start.catch((err: unknown) => fail(X86Errors.EMULATOR_FAILED, `v86 failed to start the guest: ${String(err)}`));
  });

  return result;
}
