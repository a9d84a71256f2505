#!/usr/bin/env bash
# Builds the example WASI guests (guests/wasi/*.c) into public/examples/<name>.wasm with Debian's clang.
# Prerequisites (Debian 12):
#   apt-get install -y clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32
# The outputs are committed; rerun this after changing a guest. public/examples/index.json is kept by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
CC="${CC:-clang-14}"
OUT=public/examples
mkdir -p "$OUT"
for src in guests/wasi/*.c; do
  name="$(basename "$src" .c)"
  # -Wl,--strip-all keeps the committed binaries small; the stack size is wasm-ld's default 64 KiB.
  "$CC" --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-all "$src" -o "$OUT/$name.wasm"
  printf '%-10s %6d bytes\n' "$name.wasm" "$(stat -c %s "$OUT/$name.wasm")"
done
