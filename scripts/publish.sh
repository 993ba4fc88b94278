#!/usr/bin/env bash
# Publishes the module to the database as the deployer identity (PUT /v1/database/NAME).
# Environment: IU_SERVER_URL IU_DATABASE IU_WASM IU_WASM_SHA256 IU_DELETE_DATA (never|on_conflict|always)
#              IU_TOKEN (secret) [IU_CA_CERT]
# A rejected migration fails the step and the previous module keeps serving; the database is
# cleared only when the stack's config says so.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/http.sh
source "$here/lib/http.sh"
: "${IU_TOKEN:?IU_TOKEN is required}" "${IU_DATABASE:?IU_DATABASE is required}"
wasm=${IU_WASM:?IU_WASM is required}
[[ -f $wasm ]] || { echo "module artifact missing: $wasm (the build step's output was removed; run up again with --replace on the module build)" >&2; exit 1; }
actual=$(sha256sum "$wasm" | cut -d' ' -f1)
if [[ -n ${IU_WASM_SHA256:-} && $actual != "$IU_WASM_SHA256" ]]; then
    echo "module artifact $wasm changed since it was built (sha256 $actual, expected $IU_WASM_SHA256)" >&2
    exit 1
fi

publish() {
    api PUT "/v1/database/$IU_DATABASE?clear=$1" -H 'Content-Type: application/wasm' --data-binary "@$wasm"
}

mode=${IU_DELETE_DATA:-never}
publish "$([[ $mode == always ]] && echo true || echo false)"
if [[ $HTTP_CODE == 400 && $mode == on_conflict && $API_BODY == *"update rejected"* ]]; then
    echo "migration rejected; clearing the database as spacetimedb.publish.delete_data=on_conflict allows: $API_BODY" >&2
    publish true
fi
body=$API_BODY
if [[ $HTTP_CODE != 200 ]]; then
    echo "publish of $IU_DATABASE failed (HTTP $HTTP_CODE): $body" >&2
    [[ $HTTP_CODE == 400 ]] && echo "hint: SpacetimeDB 1.x refuses schema changes it cannot migrate; set inner-universe:spacetimedb.publish.delete_data to on_conflict to clear data (never on protected stacks)" >&2
    exit 1
fi
identity=$(json_get "$body" 'j.Success.database_identity')
op=$(json_get "$body" 'j.Success.op')
printf '{"databaseIdentity":"%s","op":"%s","sha256":"%s"}\n' "$identity" "$op" "$actual"
