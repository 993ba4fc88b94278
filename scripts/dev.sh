#!/usr/bin/env bash
# The main command: bring up the dev stack for real (local file backend, no cloud account).
#   bash scripts/dev.sh [up|preview|status|outputs|destroy|rm] [--stack NAME]
# First run builds the tools (see README: one-time, ~25 min on 2 cores); later runs take seconds.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/bootstrap.sh
source "$here/lib/bootstrap.sh"
cd "$here/.."
action=${1:-up}
shift || true
exec npx tsx scripts/stack.ts "$action" "$@"
