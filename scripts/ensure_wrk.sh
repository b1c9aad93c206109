#!/usr/bin/env bash
# bench/load.py drives the server with wrk (Debian's package) when it is installed; without it
# the bench falls back to a slower Python load generator.
set -euo pipefail
command -v wrk >/dev/null && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "wrk is missing; installing Debian's wrk package..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null; }
  exit 0
fi
echo "wrk is not installed (Debian: sudo apt-get install wrk); bench/load.py will use Python threads." >&2
