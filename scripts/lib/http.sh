#!/usr/bin/env bash
# Shared by the deploy steps: one way to call the SpacetimeDB HTTP API.
# Environment: IU_SERVER_URL, optional IU_CA_CERT (private CA of a TLS front), IU_TIMEOUT_MS.

# api METHOD PATH [CURL_ARGS...]: sets API_BODY and HTTP_CODE (globals: a command substitution
# would lose them). Never prints the token.
api() {
    local method=$1 path=$2 out
    shift 2
    local args=(-sS -X "$method" --max-time "$(((${IU_TIMEOUT_MS:-30000} + 999) / 1000))" -w '\n%{http_code}')
    [[ -n ${IU_CA_CERT:-} ]] && args+=(--cacert "$IU_CA_CERT")
    [[ -n ${IU_TOKEN:-} ]] && args+=(-H "Authorization: Bearer $IU_TOKEN")
    if ! out=$(curl "${args[@]}" "$@" "${IU_SERVER_URL:?IU_SERVER_URL is required}$path" 2>&1); then
        HTTP_CODE=000
        API_BODY=$out
        return 0
    fi
    HTTP_CODE=${out##*$'\n'}
    API_BODY=${out%$'\n'*}
    export HTTP_CODE API_BODY
}

# json_get JSON EXPR: evaluates a JS expression over `j` (node is always present: it runs Pulumi).
json_get() {
    node -e 'const j = JSON.parse(process.argv[1]); const v = eval(process.argv[2]); process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));' "$1" "$2"
}
