#!/usr/bin/env bash
# Vendor Chart.js (the /costs spend chart) from npm at a pinned version. Its UMD build is one
# self-contained file that needs no inline script or style, so it works under the console's CSP.
# The file is committed so the console works offline; run this only to change the version.
set -euo pipefail
CHARTJS_VERSION=4.5.1
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/webapp/static/vendor/chartjs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "chart.js@$CHARTJS_VERSION" >/dev/null
tar -xzf "chart.js-$CHARTJS_VERSION.tgz"
mkdir -p "$dest"
cp package/dist/chart.umd.min.js package/LICENSE.md "$dest/"
echo "vendored chart.js@$CHARTJS_VERSION into $dest"
