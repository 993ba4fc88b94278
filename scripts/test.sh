#!/usr/bin/env bash
# The test command (CI runs it through .ci/run): installs what the tests need, then runs the
# module's Rust tests, the TypeScript unit/graph/policy tests, and the real-engine end-to-end tests.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/bootstrap.sh
source "$here/lib/bootstrap.sh"
# shellcheck source=SCRIPTDIR/lib/dockerd.sh
source "$here/lib/dockerd.sh"
cd "$here/.."
ensure_dockerd

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "module: cargo test + clippy"
(cd module && cargo test --quiet && cargo clippy --quiet --all-targets -- -D warnings)
step "typecheck"
npx tsc --noEmit -p tsconfig.json
step "python readers"
bash scripts/test-python.sh
step "unit, graph, policy and validator tests"
npx vitest run --project unit
step "end-to-end tests (real engine)"
npx vitest run --project e2e
