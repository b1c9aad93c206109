#!/usr/bin/env bash
# Refresh the vendored front-end files from their npm packages at the pinned versions.
# The files are committed so the console works offline; run this only to change a version.
set -euo pipefail
HTMX_VERSION=2.0.11
PICO_VERSION=2.1.1
HTMX_SSE_VERSION=2.2.4
SWAGGER_UI_VERSION=5.35.0
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/webapp/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "htmx.org@$HTMX_VERSION" "@picocss/pico@$PICO_VERSION" "htmx-ext-sse@$HTMX_SSE_VERSION" \
  "swagger-ui-dist@$SWAGGER_UI_VERSION" >/dev/null
mkdir htmx pico htmx-ext-sse swagger-ui
tar -xzf "htmx.org-$HTMX_VERSION.tgz" -C htmx
tar -xzf "picocss-pico-$PICO_VERSION.tgz" -C pico
tar -xzf "htmx-ext-sse-$HTMX_SSE_VERSION.tgz" -C htmx-ext-sse
tar -xzf "swagger-ui-dist-$SWAGGER_UI_VERSION.tgz" -C swagger-ui
mkdir -p "$dest/htmx" "$dest/pico" "$dest/htmx-ext-sse" "$dest/swagger-ui"
cp htmx/package/dist/htmx.min.js htmx/package/LICENSE "$dest/htmx/"
cp pico/package/css/pico.min.css pico/package/LICENSE.md "$dest/pico/"
cp htmx-ext-sse/package/dist/sse.min.js htmx-ext-sse/package/LICENSE "$dest/htmx-ext-sse/"
# /api/docs: the bundle (no separate preset: the page uses the base layout) and its stylesheet.
cp swagger-ui/package/swagger-ui-bundle.js swagger-ui/package/swagger-ui-bundle.js.LICENSE.txt \
  swagger-ui/package/swagger-ui.css swagger-ui/package/LICENSE swagger-ui/package/NOTICE "$dest/swagger-ui/"
echo "vendored htmx.org@$HTMX_VERSION, @picocss/pico@$PICO_VERSION, htmx-ext-sse@$HTMX_SSE_VERSION and swagger-ui-dist@$SWAGGER_UI_VERSION into $dest"
