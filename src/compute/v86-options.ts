/**
 * Turns an X86Domain and its verified image bytes into v86 constructor options, for a cold boot or a restore of
 * a booted snapshot. Shared by the task runner (v86-run.ts) and the snapshot maker (v86-snapshot.ts), so a
 * snapshot is restored with exactly the devices it was saved with (v86 requires that).
 * Measured recipes behind these values: docs V86.md (SeaBIOS + stdvga, the Linux command line, VGA memory).
 */
import type { V86Options } from 'v86';
import type { X86Domain } from './x86-task.ts';

/** Boot images of a domain, as the ArrayBuffers v86 takes. */
export interface X86BootBuffers {
  readonly kernel?: ArrayBuffer;
  readonly initrd?: ArrayBuffer;
  readonly bios?: ArrayBuffer;
  readonly vgaBios?: ArrayBuffer;
  readonly disk?: ArrayBuffer;
  readonly snapshot?: ArrayBuffer;
}

/**
 * Kernel command line of the Linux guest: serial console, and every boot-time cost v86 makes expensive turned
 * off (crypto self-tests alone cost ~2.75 s). init_on_free keeps freed pages zero so snapshots compress well.
 */
export const LINUX_CMDLINE = [
  'console=ttyS0', 'quiet', 'cryptomgr.notests', 'noisapnp', 'pnpbios=off', 'mitigations=off', 'tsc=reliable',
  'no_timer_check', 'lpj=4000000', 'random.trust_cpu=on', 'audit=0', 'lsm=', 'nokaslr', 'init_on_free=1',
].join(' ');

/** Text mode needs 32 KiB; the default 8 MiB would only bloat every snapshot. */
const VGA_MEMORY_BYTES = 256 * 1024;

/** Copies a view into an ArrayBuffer of exactly its bytes (v86 reads whole buffers). */
export function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer as ArrayBuffer;
}

export function v86OptionsFor(domain: X86Domain, buffers: X86BootBuffers, wasmPath: string): V86Options {
  const options: V86Options = {
    wasm_path: wasmPath,
    memory_size: domain.memoryMB * 1024 * 1024,
    vga_memory_size: VGA_MEMORY_BYTES,
    autostart: false,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  };
  // The Linux guest exchanges files over 9p; the device must exist on restore too.
  if (domain.boot === 'linux') options.filesystem = {};
  if (buffers.disk) options.hda = { buffer: buffers.disk };
  if (buffers.snapshot) {
    options.initial_state = { buffer: buffers.snapshot };
    return options;
  }
  if (domain.boot === 'multiboot') {
    if (buffers.kernel) options.multiboot = { buffer: buffers.kernel };
  } else {
    if (buffers.bios) options.bios = { buffer: buffers.bios };
    if (buffers.vgaBios) options.vga_bios = { buffer: buffers.vgaBios };
    if (buffers.kernel) options.bzimage = { buffer: buffers.kernel };
    if (buffers.initrd) options.initrd = { buffer: buffers.initrd };
    options.cmdline = LINUX_CMDLINE;
  }
  return options;
}
