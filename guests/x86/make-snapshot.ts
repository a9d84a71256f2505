/**
 * Step of scripts/build-x86-guests.sh: given a guest directory holding content-addressed images and their
 * .index.tsv (name, sha256, bytes), cold-boots the domain they make in v86 (src/compute/v86-snapshot.ts), saves
 * the state at READY, compresses it with `zstd -19`, stores it by hash and writes index.json
 * (src/compute/x86-guest-index.ts). Usage: tsx guests/x86/make-snapshot.ts <multiboot|linux> <dir>
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { exactBuffer } from '../../src/compute/v86-options.ts';
import { saveBootedSnapshot } from '../../src/compute/v86-snapshot.ts';
import { x86GuestIndexSchema } from '../../src/compute/x86-guest-index.ts';
import type { X86Domain } from '../../src/compute/x86-task.ts';

const MEMORY_MB = { multiboot: 32, linux: 96 } as const;

const [boot, dir] = process.argv.slice(2);
if ((boot !== 'multiboot' && boot !== 'linux') || !dir) {
  console.error('usage: tsx guests/x86/make-snapshot.ts <multiboot|linux> <dir>');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const wasmPath = require.resolve('v86/build/v86.wasm');
const v86Version = (JSON.parse(readFileSync(require.resolve('v86/package.json'), 'utf8')) as { version: string }).version;

const files = readFileSync(join(dir, '.index.tsv'), 'utf8').trim().split('\n').map((line) => {
  const [name = '', sha256 = '', bytes = '0'] = line.split('\t');
  return { name, sha256, bytes: Number(bytes) };
});
const hash = (name: string): string | undefined => files.find((f) => f.name === name)?.sha256;
const bytesOf = (name: string): ArrayBuffer | undefined => {
  const h = hash(name);
  return h ? exactBuffer(new Uint8Array(readFileSync(join(dir, h)))) : undefined;
};

const kernelName = boot === 'multiboot' ? 'multiboot.elf' : 'bzImage';
const kernel = hash(kernelName);
if (!kernel) throw new Error(`${dir} has no ${kernelName}`);
const cold: X86Domain = boot === 'multiboot'
  ? { boot, memoryMB: MEMORY_MB.multiboot, kernel }
  : { boot, memoryMB: MEMORY_MB.linux, kernel, initrd: hash('initramfs.cpio.gz'), bios: hash('bios.bin'), vgaBios: hash('vgabios.bin') };

const snap = await saveBootedSnapshot(cold, {
  kernel: bytesOf(kernelName), initrd: bytesOf('initramfs.cpio.gz'), bios: bytesOf('bios.bin'), vgaBios: bytesOf('vgabios.bin'),
}, wasmPath);
const raw = join(dir, 'state.raw');
writeFileSync(raw, new Uint8Array(snap.state));
execFileSync('zstd', ['-19', '-T0', '-q', '-f', '--rm', raw, '-o', `${raw}.zst`]);
const zst = readFileSync(`${raw}.zst`);
const snapshot = createHash('sha256').update(zst).digest('hex');
renameSync(`${raw}.zst`, join(dir, snapshot));
files.push({ name: `${boot}.state.zst`, sha256: snapshot, bytes: zst.byteLength });
console.log(`  ${boot} booted to READY in ${snap.bootMs} ms; state ${snap.state.byteLength} bytes raw, ${zst.byteLength} zstd`);

const index = x86GuestIndexSchema.parse({ v86: v86Version, domain: { ...cold, snapshot }, files });
writeFileSync(join(dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
rmSync(join(dir, '.index.tsv'));
process.exit(0);
