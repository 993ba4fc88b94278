#!/usr/bin/env bash
# Mints the stack's deployer identity once: POST /v1/identity -> {"identity","token"} on stdout.
# The token never expires and owns every database it first publishes; Pulumi keeps it as a secret.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/http.sh
source "$here/lib/http.sh"
IU_TOKEN=''
deadline=$((SECONDS + ${IU_READY_TIMEOUT:-60}))
while :; do
    api POST /v1/identity
    [[ $HTTP_CODE == 200 ]] && break
    ((SECONDS < deadline)) || { echo "POST /v1/identity answered $HTTP_CODE: $API_BODY" >&2; exit 1; }
    sleep 1
done
printf '%s\n' "$API_BODY"
