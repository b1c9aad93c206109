#!/usr/bin/env bash
# Bundle CodeMirror 6 (editor, JSON and YAML modes, lint markers) into ONE vendored file,
# webapp/static/vendor/codemirror/codemirror.min.js, with esbuild. The versions are pinned in
# scripts/codemirror/package.json and locked (with integrity hashes) in package-lock.json;
# `npm ci` installs exactly those. The output is committed so the console works offline:
# run this only to change a version (edit package.json, `npm install --package-lock-only`).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/webapp/static/vendor/codemirror"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/scripts/codemirror/package.json" "$here/scripts/codemirror/package-lock.json" \
   "$here/scripts/codemirror/entry.mjs" "$work/"
cd "$work"
npm ci --silent --no-audit --no-fund
mkdir -p "$dest"
./node_modules/.bin/esbuild entry.mjs --bundle --minify --format=iife --global-name=FlowdeckCodeMirror \
  --target=es2020 --legal-comments=none --outfile="$dest/codemirror.min.js"
# Every bundled package is MIT; keep each one's license text next to the bundle.
node -e '
const fs = require("fs"), path = require("path");
const lock = require("./package-lock.json");
const out = [];
for (const [where, meta] of Object.entries(lock.packages)) {
  if (!where || meta.dev || where.includes("esbuild")) continue;
  const dir = path.join(".", where);
  const file = fs.readdirSync(dir).find((name) => /^licen[cs]e/i.test(name));
  out.push(`${where.replace("node_modules/", "")}@${meta.version} (${meta.license})\n\n` +
           (file ? fs.readFileSync(path.join(dir, file), "utf8").trim() : "(no license file shipped)"));
}
fs.writeFileSync(process.argv[1], out.join("\n\n" + "-".repeat(72) + "\n\n") + "\n");
' "$dest/LICENSES.txt"
echo "bundled $(node -p 'Object.keys(require("./package.json").dependencies).filter(n => n !== "esbuild").map(n => n + "@" + require("./package.json").dependencies[n]).join(", ")') into $dest"
