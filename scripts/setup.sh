#!/usr/bin/env bash
# Installs everything a fresh checkout needs, on a machine that has only
# Node 20, npm and git: the pinned pnpm, then the workspace (which brings
# Node 24 from the npm registry through the `node` package).
set -euo pipefail
cd "$(dirname "$0")/.."

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  # corepack fails its signature check on these machines; npm works.
  npm install --global --no-fund --no-audit "pnpm@$pnpm_version"
fi

if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi
