#!/usr/bin/env bash
# Fetch axe-core for the accessibility tests (tests/e2e/test_accessibility.py) from its npm
# package at the pinned version. It is a test tool only: the console never serves it.
set -euo pipefail
AXE_VERSION=4.14.1
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/tests/e2e/vendor/axe-core"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "axe-core@$AXE_VERSION" >/dev/null
tar -xzf "axe-core-$AXE_VERSION.tgz"
mkdir -p "$dest"
cp package/axe.min.js package/LICENSE "$dest/"
echo "$AXE_VERSION" > "$dest/VERSION"
echo "vendored axe-core@$AXE_VERSION into $dest"
