#!/usr/bin/env bash
# The main command: bring up the dev stack for real with the Pulumi CLI (local file backend, no
# cloud account). Each action is the plain `pulumi` command shown; this only sets the environment
# (scripts/lib/pulumi-env.sh) and installs the tools on first use.
#   bash scripts/dev.sh [up|preview|refresh|destroy|rm|outputs|status] [--stack NAME] [-- extra pulumi args]
#     up        pulumi up -s dev --yes --policy-pack policy/pack      (then prints the atlas output)
#     preview   pulumi preview -s dev --diff --policy-pack policy/pack
#     refresh   pulumi refresh -s dev --yes
#     destroy   pulumi destroy -s dev --yes
#     rm        pulumi destroy + pulumi stack rm
#     outputs   pulumi stack output -s dev --json                     (public outputs only)
#     status    scripts/status.ts: health through the public front
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# shellcheck source=SCRIPTDIR/lib/bootstrap.sh
source "$here/lib/bootstrap.sh"
# shellcheck source=SCRIPTDIR/lib/pulumi-env.sh
source "$here/lib/pulumi-env.sh"
cd "$repo"
pulumi_env "$repo"

action=${1:-up}
shift || true
stack=${IU_STACK:-dev}
extra=()
while (($#)); do
    case $1 in
    --stack)
        stack=$2
        shift 2
        ;;
    --)
        shift
        extra+=("$@")
        break
        ;;
    *)
        extra+=("$1")
        shift
        ;;
    esac
done

stack_file="Pulumi.$stack.yaml"
had=$(pulumi_has_provider_lines "$stack_file")
trap 'pulumi_clean_stack_file "$stack_file" "$had"' EXIT
pack=("--policy-pack" "$repo/policy/pack")

if [[ $action != status && $action != outputs ]]; then
    pulumi stack select --create "$stack" >/dev/null
fi
case $action in
up)
    pulumi up -s "$stack" --yes "${pack[@]}" "${extra[@]}"
    echo
    echo "atlas outputs:"
    pulumi stack output -s "$stack" atlas --json
    ;;
preview) pulumi preview -s "$stack" --diff "${pack[@]}" "${extra[@]}" ;;
refresh) pulumi refresh -s "$stack" --yes "${extra[@]}" ;;
destroy) pulumi destroy -s "$stack" --yes "${extra[@]}" ;;
rm)
    pulumi destroy -s "$stack" --yes "${extra[@]}"
    # The stack file stays: Pulumi.dev.yaml is the project's, not the stack's state.
    pulumi stack rm -s "$stack" --yes --preserve-config
    ;;
outputs) pulumi stack output -s "$stack" --json ;;
status) exec npx tsx scripts/status.ts --stack "$stack" "${extra[@]}" ;;
*)
    echo "unknown action $action; use up | preview | refresh | destroy | rm | outputs | status" >&2
    exit 2
    ;;
esac
