#!/usr/bin/env bash
# Refresh the vendored front-end files from their npm packages at the pinned versions.
# The files are committed so the console works offline; run this only to change a version.
set -euo pipefail
HTMX_VERSION=2.0.11
PICO_VERSION=2.1.1
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/webapp/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "htmx.org@$HTMX_VERSION" "@picocss/pico@$PICO_VERSION" >/dev/null
mkdir htmx pico
tar -xzf "htmx.org-$HTMX_VERSION.tgz" -C htmx
tar -xzf "picocss-pico-$PICO_VERSION.tgz" -C pico
mkdir -p "$dest/htmx" "$dest/pico"
cp htmx/package/dist/htmx.min.js htmx/package/LICENSE "$dest/htmx/"
cp pico/package/css/pico.min.css pico/package/LICENSE.md "$dest/pico/"
echo "vendored htmx.org@$HTMX_VERSION and @picocss/pico@$PICO_VERSION into $dest"
