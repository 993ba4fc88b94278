#!/usr/bin/env bash
# What the delivery workflows run against a stack, as plain Pulumi CLI commands; the e2e suite runs
# this same file against a file backend (test/delivery/ciStack.e2e.test.ts).
#   bash scripts/ci/stack.sh preview STACK   pulumi preview --diff with the policy pack; with
#                                            IU_COMMENT_FILE set, also writes the PR comment there
#   bash scripts/ci/stack.sh deploy STACK    preflight, pulumi up with the policy pack, then the
#                                            Atlas reader checks the published outputs
#   bash scripts/ci/stack.sh drift STACK     pulumi preview --refresh --expect-no-changes
# The backend (PULUMI_BACKEND_URL) and credentials come from the environment; the stack must exist.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lib/pulumi-env.sh
source "$repo/scripts/lib/pulumi-env.sh"
cd "$repo"
pulumi_env "$repo"

action=${1:?usage: stack.sh preview|deploy|drift STACK}
stack=${2:?usage: stack.sh preview|deploy|drift STACK}
stack_file="Pulumi.$stack.yaml"
had=$(pulumi_has_provider_lines "$stack_file")
trap 'pulumi_clean_stack_file "$stack_file" "$had"' EXIT
common=(-s "$stack" --non-interactive --suppress-outputs)
pack=(--policy-pack "$repo/policy/pack")

case $action in
preview)
    out=$(mktemp)
    set +e
    pulumi preview "${common[@]}" --diff "${pack[@]}" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    set -e
    if [[ -n ${IU_COMMENT_FILE:-} ]]; then
        {
            # shellcheck disable=SC2016 # the backticks are Markdown
            printf '### `pulumi preview` of `%s`: %s\n\n<details><summary>diff</summary>\n\n```diff\n' "$stack" "$([[ $rc == 0 ]] && echo passed || echo "failed (exit $rc)")"
            sed -E 's/\x1b\[[0-9;]*m//g' "$out"
            printf '```\n\n</details>\n'
        } >"$IU_COMMENT_FILE"
    fi
    rm -f "$out"
    exit "$rc"
    ;;
deploy)
    npx tsx scripts/preflight.ts --stack "$stack"
    pulumi up "${common[@]}" --yes --diff "${pack[@]}"
    npx tsx readers/ts/cli.ts --stack "$stack" >/dev/null
    ;;
drift)
    pulumi preview "${common[@]}" --refresh --expect-no-changes --diff "${pack[@]}"
    ;;
*)
    echo "unknown action $action; use preview | deploy | drift" >&2
    exit 2
    ;;
esac
