#!/usr/bin/env bash
# Build the web app into collector/web_dist, only as far as needed: `npm ci` when
# package-lock.json changed since the last install, `npm run build` when any file under web/
# changed since the last build (stamps in node_modules/.sodav-lock and web_dist/.sodav-built).
# Used by ./dev (setup, lint, wheel) and packaging/build-wheel.sh. Needs Node.js >= 18.18, npm.
set -euo pipefail
web=$(cd "$(dirname "$0")/.." && pwd)
dist="$web/../collector/web_dist"
cd "$web"
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.sodav-lock 2>/dev/null)" != "$lock" ]; then
  echo "==> installing the web app's packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock" > node_modules/.sodav-lock
fi
want=$(find . \( -path ./node_modules -o -path ./screenshots \) -prune -o -type f -print | LC_ALL=C sort \
  | xargs sha256sum | sha256sum | cut -d' ' -f1)
if [ ! -f "$dist/index.html" ] || [ "$(cat "$dist/.sodav-built" 2>/dev/null)" != "$want" ]; then
  echo "==> building the web app into collector/web_dist" >&2
  npm run build --silent >/dev/null
  echo "$want" > "$dist/.sodav-built"
fi
