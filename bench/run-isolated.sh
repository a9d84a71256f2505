#!/usr/bin/env bash
# Runs the benchmarks; as root, inside a private network namespace holding only loopback, because the transport
# suite drives real Chromium (BROWSER.md: no traffic may leave loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
cmd="npx tsx bench/main.ts $*"
# Node-only WebRTC figures need real (loopback) interfaces that node-datachannel accepts: no namespace.
if [ "$*" = "transport-node" ] || [ "$*" = "transport-node --quick" ]; then
  exec sh -c "$cmd"
fi
if [ "$(id -u)" = "0" ] && command -v unshare >/dev/null && command -v ip >/dev/null && unshare -n true 2>/dev/null; then
  exec unshare -n sh -c "ip link set lo up && NEPHELE_NETNS=1 $cmd"
fi
exec sh -c "$cmd"
