#!/usr/bin/env bash
# The style checks scripts/test.sh runs (and CI with it): TypeScript lint and format (Biome,
# biome.json), unused files, exports and dependencies (knip, knip.json), bash format (shfmt -i 4).
#   bash scripts/lint.sh          check; exit 1 on any finding
#   bash scripts/lint.sh --fix    rewrite what the tools can fix
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t shell_files < <(git ls-files -co --exclude-standard -- '*.sh' policy/pack)
if [[ ${1:-} == --fix ]]; then
    npx biome check --write .
    shfmt -w -i 4 "${shell_files[@]}"
    exit 0
fi
npm run -s lint:biome
npm run -s lint:knip
shfmt -d -i 4 "${shell_files[@]}"
echo "lint: biome, knip and shfmt found nothing"
