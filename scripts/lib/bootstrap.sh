#!/usr/bin/env bash
# Sourced by the entry scripts: tools installed and on PATH, node_modules matching the lock file.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bash "$repo/scripts/setup-tools.sh"
# shellcheck source=/dev/null
source "${IU_CACHE:-$HOME/.cache/inner-universe}/env.sh"
stamp="$repo/node_modules/.iu-lock-sha"
want=$(sha256sum "$repo/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $stamp || $(<"$stamp") != "$want" ]]; then
    (cd "$repo" && npm ci --no-audit --no-fund)
    echo "$want" >"$stamp"
fi
