#!/usr/bin/env bash
# Pushes the stack's server_config and feature_flags into the module's `config` table through
# its admin-only `set_config` reducer, as the deployer (the module's first admin).
# Environment: IU_SERVER_URL IU_DATABASE IU_TOKEN (secret) IU_SETTINGS_JSON ({"key": {...}, ...}) [IU_CA_CERT]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/http.sh
source "$here/lib/http.sh"
: "${IU_TOKEN:?IU_TOKEN is required}" "${IU_DATABASE:?IU_DATABASE is required}"
settings=${IU_SETTINGS_JSON:?IU_SETTINGS_JSON is required}
keys=$(json_get "$settings" 'Object.keys(j).join(" ")')
for key in $keys; do
    call=$(json_get "$settings" "JSON.stringify([\"$key\", JSON.stringify(j[\"$key\"])])")
    api POST "/v1/database/$IU_DATABASE/call/set_config" -H 'Content-Type: application/json' --data "$call"
    if [[ $HTTP_CODE != 200 ]]; then
        echo "set_config($key) failed (HTTP $HTTP_CODE): $API_BODY" >&2
        exit 1
    fi
done
printf '{"synced":%s}\n' "$(json_get "$settings" 'Object.keys(j)')"
