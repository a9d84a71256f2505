#!/usr/bin/env bash
# Builds Nephele's x86 guests for v86 from our sources and Debian packages (see docs: /work/shared/design/V86.md).
#
#   scripts/build-x86-guests.sh linux       (default; `npm run build:guests`) Debian i386 kernel + busybox
#                                           initramfs + SeaBIOS + test program + booted snapshot
#                                           -> public/guests/linux/ (~16 MB: not committed, CI builds it)
#   scripts/build-x86-guests.sh multiboot   freestanding multiboot guest + its booted snapshot
#                                           -> public/guests/multiboot/ (~12 KB, committed; rebuild after changing
#                                           guests/x86/multiboot or upgrading v86 — a snapshot's bytes differ per run)
#   scripts/build-x86-guests.sh all         both
#
# Outputs are content-addressed: each file is named by its sha256 and listed in the directory's index.json
# ({ name, sha256, bytes }), which is what X86Domain refers to. Snapshots depend on the v86 version and are
# rebuilt with it (index.json records the version).
# Prerequisites (Debian 12, root): apt-get install -y nasm gcc-multilib seabios cpio zstd
#   and for `linux`: dpkg --add-architecture i386 && apt-get update (the script downloads the i386 packages
#   with apt-get download; nothing is installed from them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WHAT="${1:-linux}"
WORK="$(mktemp -d /tmp/nephele-x86-build.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# add_output <dir> <name> <file>: copies file to <dir>/<sha256> and appends an index line to <dir>/.index.tsv;
# guests/x86/make-snapshot.ts then adds the booted snapshot and turns .index.tsv into index.json.
add_output() {
  local dir="$1" name="$2" file="$3" sha bytes
  sha="$(sha256sum "$file" | cut -d' ' -f1)"
  bytes="$(stat -c %s "$file")"
  install -m 644 "$file" "$dir/$sha"
  printf '%s\t%s\t%s\n' "$name" "$sha" "$bytes" >> "$dir/.index.tsv"
  printf '  %-18s %9d bytes  %s\n' "$name" "$bytes" "$sha"
}

fresh_dir() {
  rm -rf "$1"
  mkdir -p "$1"
  : > "$1/.index.tsv"
}

build_multiboot() {
  local out="$ROOT/public/guests/multiboot" src="$ROOT/guests/x86/multiboot"
  echo "multiboot guest -> $out"
  fresh_dir "$out"
  nasm -f elf32 "$src/entry.asm" -o "$WORK/entry.o"
  gcc -m32 -ffreestanding -nostdlib -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -O2 \
    -Wall -Wextra -Werror -c "$src/guest.c" -o "$WORK/guest.o"
  ld -m elf_i386 -T "$src/link.ld" -nostdlib --build-id=none -z noexecstack \
    -o "$WORK/multiboot.elf" "$WORK/entry.o" "$WORK/guest.o"
  strip "$WORK/multiboot.elf"
  add_output "$out" multiboot.elf "$WORK/multiboot.elf"
  npx tsx guests/x86/make-snapshot.ts multiboot "$out"
}

build_linux() {
  local out="$ROOT/public/guests/linux" src="$ROOT/guests/x86/linux"
  echo "linux guest -> $out"
  fresh_dir "$out"
  # The current Debian 686 kernel (the linux-image-686 metapackage's dependency), unsigned build.
  local kpkg
  kpkg="$(apt-cache depends linux-image-686:i386 | sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*-686\).*/\1/p' | head -n1)"
  [ -n "$kpkg" ] || { echo "no i386 kernel package: run dpkg --add-architecture i386 && apt-get update" >&2; exit 1; }
  (cd "$WORK" && apt-get download "$kpkg-unsigned:i386" busybox-static:i386 >/dev/null 2>&1)
  dpkg -x "$WORK"/linux-image-*.deb "$WORK/kernel"
  dpkg -x "$WORK"/busybox-static_*.deb "$WORK/busybox"
  local kdir
  kdir="$(echo "$WORK"/kernel/lib/modules/*/kernel)"

  # initramfs: static busybox, /init and the virtio + 9p modules it loads (order of their depends= fields).
  local ir="$WORK/initramfs"
  mkdir -p "$ir/bin" "$ir/lib/modules" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/job" "$ir/tmp"
  cp "$WORK/busybox/bin/busybox" "$ir/bin/busybox"
  install -m 755 "$src/init" "$ir/init"
  for m in drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_modern_dev \
           drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/9p/9pnet net/9p/9pnet_virtio \
           fs/netfs/netfs fs/fscache/fscache fs/9p/9p; do
    cp "$kdir/$m.ko" "$ir/lib/modules/"
  done
  (cd "$ir" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --reproducible --quiet) \
    | gzip -9 -n > "$WORK/initramfs.cpio.gz"

  gcc -m32 -static -O2 -Wall -Wextra -Werror -s "$src/programs/hello.c" -o "$WORK/hello"

  add_output "$out" bzImage "$(echo "$WORK"/kernel/boot/vmlinuz-*)"
  add_output "$out" initramfs.cpio.gz "$WORK/initramfs.cpio.gz"
  add_output "$out" bios.bin /usr/share/seabios/bios.bin
  add_output "$out" vgabios.bin /usr/share/seabios/vgabios-stdvga.bin
  add_output "$out" hello.i386 "$WORK/hello"
  npx tsx guests/x86/make-snapshot.ts linux "$out"
}

case "$WHAT" in
  multiboot) build_multiboot ;;
  linux) build_linux ;;
  all) build_multiboot; build_linux ;;
  *) echo "usage: $0 [multiboot|linux|all]" >&2; exit 2 ;;
esac
