#!/usr/bin/env bash
# Fails the deployment unless the server answers /v1/ping and the module's initial data is
# readable (module_config row and the SYSTEM_INITIALIZED event) within IU_READY_TIMEOUT seconds.
# Environment: IU_SERVER_URL IU_DATABASE IU_TOKEN (secret) IU_READY_TIMEOUT [IU_CA_CERT] [IU_PUBLIC_URL IU_PUBLIC_CA_CERT]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/http.sh
source "$here/lib/http.sh"
: "${IU_DATABASE:?IU_DATABASE is required}"
deadline=$((SECONDS + ${IU_READY_TIMEOUT:-60}))
last=''

# rows SQL: sets ROWS to the row count of the first statement (0 when the query fails, with the
# reason in `last`). A global, not stdout: a command substitution would lose `last`.
rows() {
    ROWS=0
    api POST "/v1/database/$IU_DATABASE/sql" -H 'Content-Type: text/plain' --data "$1"
    if [[ $HTTP_CODE != 200 ]]; then
        last="sql answered $HTTP_CODE: $API_BODY"
        return 0
    fi
    ROWS=$(json_get "$API_BODY" 'j[0].rows.length')
}

while :; do
    api GET /v1/ping
    if [[ $HTTP_CODE == 200 ]]; then
        last=''
        rows "SELECT * FROM config WHERE key = 'module_config'"
        config=$ROWS
        rows "SELECT * FROM event_log WHERE event_type = 'SYSTEM_INITIALIZED'"
        events=$ROWS
        if ((config >= 1 && events >= 1)); then break; fi
        [[ -n $last ]] || last="module_config rows: $config, SYSTEM_INITIALIZED events: $events"
    else
        last="ping answered $HTTP_CODE"
    fi
    ((SECONDS < deadline)) || { echo "database $IU_DATABASE not ready within ${IU_READY_TIMEOUT:-60}s: $last" >&2; exit 1; }
    sleep 1
done
if [[ -n ${IU_PUBLIC_URL:-} ]]; then
    IU_SERVER_URL=$IU_PUBLIC_URL IU_CA_CERT=${IU_PUBLIC_CA_CERT:-} IU_TOKEN='' api GET /v1/ping
    [[ $HTTP_CODE == 200 ]] || { echo "public endpoint $IU_PUBLIC_URL/v1/ping answered $HTTP_CODE" >&2; exit 1; }
fi
printf '{"ready":true,"configRows":%s,"initEvents":%s}\n' "$config" "$events"
