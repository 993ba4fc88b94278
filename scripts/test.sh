#!/usr/bin/env bash
# The test command (CI runs it through .ci/run): installs what the tests need, then runs the
# module's Rust tests, the TypeScript unit/graph/policy tests, and the real-engine end-to-end tests.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../toolchain/bootstrap.sh
source "$here/../toolchain/bootstrap.sh"
# shellcheck source=SCRIPTDIR/../toolchain/dockerd.sh
source "$here/../toolchain/dockerd.sh"
cd "$here/.."
ensure_dockerd

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
passed=0
count() { passed=$((passed + $1)); }

step "module: cargo test + clippy"
(cd module && cargo test --quiet 2>&1 | tee "$results/cargo.txt" && cargo clippy --quiet --all-targets -- -D warnings)
count "$(awk '/^test result: ok\./ { n += $4 } END { print n + 0 }' "$results/cargo.txt")"
step "clog-archive: cargo test"
# Its target dir is the tool cache's (setup-tools.sh built the binary there): the test build reuses it.
(cd toolchain/clog-archive && CARGO_TARGET_DIR="${IU_CACHE:-$HOME/.cache/inner-universe}/build/clog-archive-test" cargo test --quiet --locked 2>&1 | tee "$results/clog.txt")
count "$(awk '/^test result: ok\./ { n += $4 } END { print n + 0 }' "$results/clog.txt")"
step "typecheck"
# tsconfig.json says noCheck: the CLI's ts-node transpiles only (type-checking the whole program on
# every preview was most of a no-op up). The types are checked here, once, instead.
npx tsc --noEmit --noCheck false -p tsconfig.json
step "lint: biome, knip, shfmt"
bash scripts/lint.sh
step "python readers"
bash toolchain/test-python.sh | tee "$results/pytest.txt"
count "$(sed -n 's/^\([0-9]*\) passed.*/\1/p' "$results/pytest.txt" | tail -n1)"
for project in unit e2e; do
    step "$([[ $project == unit ]] && echo "unit, graph, policy and validator tests" || echo "end-to-end tests (real engine)")"
    npx vitest run --project "$project" --reporter=default --reporter=json --outputFile="$results/$project.json"
    count "$(node -p "require('$results/$project.json').numPassedTests")"
done
# Every step above stops the run on its first failure, so reaching this line means none failed.
printf '\ntests: %s passed, 0 failed\n' "$passed"
