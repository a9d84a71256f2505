#!/usr/bin/env bash
# Runs the real-browser tests inside a private network namespace that holds only loopback (BROWSER.md:
# Chromium sends DNS, mDNS and STUN traffic on real interfaces even with every quiet flag; none may leave).
set -euo pipefail
cd "$(dirname "$0")/../.."
cmd="npx vitest run --config vitest.browser.config.ts $*"
if [ "$(id -u)" = "0" ] && command -v unshare >/dev/null && command -v ip >/dev/null && unshare -n true 2>/dev/null; then
  exec unshare -n sh -c "ip link set lo up && $cmd"
fi
if [ "${NEPHELE_ALLOW_UNISOLATED:-}" = "1" ]; then
  echo "warning: running browser tests without a private network namespace" >&2
  exec sh -c "$cmd"
fi
echo "error: browser tests need root with unshare and iproute2 (or set NEPHELE_ALLOW_UNISOLATED=1)" >&2
exit 1
