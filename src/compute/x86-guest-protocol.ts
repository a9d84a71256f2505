/**
 * The line protocol between a host and Nephele's x86 guests (guests/x86/multiboot/guest.c, guests/x86/linux/init)
 * on the first serial port:
 *   guest: "@@NEPHELE READY@@\n"            — booted, waiting for its command (snapshots are taken here)
 *   host:  "<command line>\n"               — multiboot: the args joined by spaces; linux: "run", once the
 *                                            job's files are in the 9p share (linuxJobFiles, linuxInputLayout)
 *   guest: <program output> "\n@@NEPHELE EXIT <status>@@\n"
 * SerialCollector is the host's pure parser of the byte stream: it finds the markers, keeps the output between
 * the command and the exit marker, and caps what it keeps.
 */
export const READY_MARKER = '@@NEPHELE READY@@';
export const EXIT_MARKER_PREFIX = '\n@@NEPHELE EXIT ';
const EXIT_LINE = /\n@@NEPHELE EXIT (\d{1,10})@@\n$/;
/** Longest tail that can still hold a marker line. */
const TAIL_CHARS = 64;

export type SerialEvent =
  | { readonly type: 'ready' }
  | { readonly type: 'exit'; readonly status: number }
  | { readonly type: 'overflow' };

export class SerialCollector {
  private readonly output: number[] = [];
  private tail = '';
  private capturing = false;
  private overflowed = false;
  firstOutputAt: number | null = null;

  constructor(private readonly maxBytes: number) {}

  /** From now on bytes count as the program's output (call when the command is sent). */
  startCapture(): void {
    this.capturing = true;
  }

  /** Feeds one byte; returns an event when a marker line or the cap is reached. */
  push(byte: number, now: number): SerialEvent | null {
    this.tail = (this.tail + String.fromCharCode(byte)).slice(-TAIL_CHARS);
    if (this.capturing) {
      if (this.firstOutputAt === null) this.firstOutputAt = now;
      if (this.output.length >= this.maxBytes) {
        if (this.overflowed) return null;
        this.overflowed = true;
        return { type: 'overflow' };
      }
      this.output.push(byte);
    }
    if (byte !== 0x0a) return null;
    if (!this.capturing && this.tail.endsWith(`${READY_MARKER}\n`)) return { type: 'ready' };
    const exit = this.capturing ? EXIT_LINE.exec(this.tail) : null;
    if (exit) {
      this.output.length -= exit[0].length;
      return { type: 'exit', status: Number(exit[1]) };
    }
    return null;
  }

  /** The program's output so far (UTF-8, invalid sequences replaced). */
  text(): string {
    return new TextDecoder().decode(Uint8Array.from(this.output));
  }
}

/** The command line the multiboot guest reads: its args joined by single spaces. */
export function multibootCommandLine(args: readonly string[]): string {
  return `${args.join(' ')}\n`;
}

export const LINUX_RUN_COMMAND = 'run\n';

/**
 * The 9p files the Linux guest's /init reads (paths relative to the share root): the program, stdin, and one
 * file per argument with a "." appended, which /init strips, so trailing newlines in an argument survive.
 */
export function linuxJobFiles(program: Uint8Array, args: readonly string[], stdin: string): Array<[string, Uint8Array]> {
  const enc = new TextEncoder();
  return [
    ['/program', program],
    ['/stdin', enc.encode(stdin)],
    ...args.map((a, i): [string, Uint8Array] => [`/arg${i}`, enc.encode(`${a}.`)]),
  ];
}

/**
 * Where the Linux guest runs the program (its working directory): the task's input files are put here before
 * the command is sent, and files the program leaves here are read back from this 9p directory.
 */
export const LINUX_OUTPUT_DIR = '/out';

/**
 * Where a Linux task's input files (relative paths, already checked: x86-task.ts) go in the 9p share: the
 * directories to create, parents first (the working directory included), and each file's path.
 */
export function linuxInputLayout(paths: readonly string[]): { readonly dirs: string[]; readonly files: string[] } {
  const dirs = new Set<string>([LINUX_OUTPUT_DIR]);
  for (const path of paths) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${LINUX_OUTPUT_DIR}/${parts.slice(0, i).join('/')}`);
  }
  return { dirs: [...dirs].sort((a, b) => a.split('/').length - b.split('/').length), files: paths.map((p) => `${LINUX_OUTPUT_DIR}/${p}`) };
}
