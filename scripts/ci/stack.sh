#!/usr/bin/env bash
# What the delivery workflows run against a stack (`npm run ops -- ci <action> --stack STACK`,
# ops/deploy/command.ts); the e2e suite runs this same file against a file backend
# (test/ops/deploy/ciStack.e2e.test.ts).
#   bash scripts/ci/stack.sh preview|deploy|drift STACK
# The backend (PULUMI_BACKEND_URL) and credentials come from the environment; the stack must exist.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec node --import tsx ops/main.ts ci "${1:?usage: stack.sh preview|deploy|drift STACK}" --stack "${2:?usage: stack.sh preview|deploy|drift STACK}"
