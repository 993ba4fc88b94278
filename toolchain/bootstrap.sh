#!/usr/bin/env bash
# Sourced by the entry scripts: the tools of IU_SETUP_PROFILE (dev: the dev stack's; test, the
# default: the tests' too) installed and on PATH, node_modules matching the lock file.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/toolchain/setup-tools.sh" "${IU_SETUP_PROFILE:-test}"
# shellcheck source=/dev/null
source "${IU_CACHE:-$HOME/.cache/inner-universe}/env.sh"
stamp="$repo/node_modules/.iu-lock-sha"
want=$(sha256sum "$repo/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $stamp || $(<"$stamp") != "$want" ]]; then
    # npm ci empties node_modules first: through a link it would empty another checkout's.
    if [[ -L $repo/node_modules ]]; then
        echo "node_modules is a link to $(readlink "$repo/node_modules") and does not match package-lock.json; run npm ci there" >&2
        exit 1
    fi
    (cd "$repo" && npm ci --no-audit --no-fund)
    echo "$want" >"$stamp"
fi
