/**
 * Makes a booted snapshot of an x86 domain: cold-boots it in v86 until the guest prints READY (it then waits
 * for its command, see x86-guest-protocol.ts) and saves the emulator state. Restoring that state skips the boot
 * (Linux: tens of seconds under v86, to well under a second). The state is raw; compress it with `zstd -19`
 * (v86 decompresses .zst states itself). States are tied to the v86 version that saved them.
 */
import { V86 } from 'v86';
import { v86OptionsFor, type X86BootBuffers } from './v86-options.ts';
import { SerialCollector } from './x86-guest-protocol.ts';
import type { X86Domain } from './x86-task.ts';

export interface BootedSnapshot {
  readonly state: ArrayBuffer;
  /** Cold boot time to READY, ms. */
  readonly bootMs: number;
  /** Everything the guest printed while booting (kernel messages). */
  readonly bootLog: string;
}

export async function saveBootedSnapshot(
  domain: X86Domain, buffers: X86BootBuffers, wasmPath: string, timeoutMs = 300_000,
): Promise<BootedSnapshot> {
  const t0 = performance.now();
  const emulator = new V86(v86OptionsFor(domain, { ...buffers, snapshot: undefined }, wasmPath));
  const serial = new SerialCollector(1024 * 1024);
  let log = '';
  try {
    return await new Promise<BootedSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`guest did not print READY within ${timeoutMs} ms`)), timeoutMs);
      emulator.add_listener('serial0-output-byte', (byte: number) => {
        log += String.fromCharCode(byte);
        if (serial.push(byte, 0)?.type !== 'ready') return;
        const bootMs = Math.round(performance.now() - t0);
        clearTimeout(timer);
        emulator.stop()
          .then(() => emulator.save_state())
          .then((state) => resolve({ state, bootMs, bootLog: log }), reject);
      });
      emulator.add_listener('emulator-loaded', () => { void emulator.run(); });
    });
  } finally {
    await emulator.destroy().catch(() => {});
  }
}
