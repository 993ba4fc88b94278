#!/usr/bin/env bash
# The README's first command: installs the tools on first use, then brings up the dev stack with
# the plain Pulumi CLI (`pulumi up -s dev --yes --policy-pack policy/pack`). The environment and
# every action are the operator CLI's (ops/deploy/command.ts):
#   bash scripts/dev.sh [up|preview|refresh|destroy|rm|outputs] [--stack NAME] [-- pulumi flags]
#   bash scripts/dev.sh status [--json] [--logs N]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The dev stack's tools only (no test tools: those come with scripts/test.sh).
IU_SETUP_PROFILE=dev
# shellcheck source=SCRIPTDIR/../toolchain/bootstrap.sh
source "$repo/toolchain/bootstrap.sh"
cd "$repo"
action=${1:-up}
shift || true
if [[ $action == status ]]; then exec node --import tsx ops/main.ts status "$@"; fi
exec node --import tsx ops/main.ts stack "$action" "$@"
