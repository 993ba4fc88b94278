#!/usr/bin/env bash
# Manages the local Caddy TLS proxy of one stack (runtime local, tls.mode internal).
#   proxy-ctl.sh start|stop|status
# Environment: IU_CADDY_BIN IU_PROXY_DIR IU_CADDYFILE_B64 (rendered Caddyfile, base64)
#              IU_HTTPS_URL (https://127.0.0.1:PORT) IU_READY_TIMEOUT
#              IU_CA_CERT (where Caddy writes its root certificate; tlsProxy.ts derives it)
#              IU_PID_FILE IU_LOG_FILE IU_FINGERPRINT_FILE (named by infra/lib/localLayout.ts)
# Caddy keeps its internal CA under IU_PROXY_DIR, so each stack has its own root certificate.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/daemon.sh
source "$here/lib/daemon.sh"

dir=$(realpath -m "${IU_PROXY_DIR:?IU_PROXY_DIR is required}")
url=${IU_HTTPS_URL:?IU_HTTPS_URL is required}
bin=${IU_CADDY_BIN:?IU_CADDY_BIN is required}
pidfile=$(daemon_file IU_PID_FILE "$dir.pid")
logfile=$(daemon_file IU_LOG_FILE "$dir/caddy.log")
# The binary Caddy runs from (its config is the Caddyfile, compared as a file).
fpfile=$(daemon_file IU_FINGERPRINT_FILE "$dir.bin")
# What the step reports (and so what state holds) is the path as configured, not this checkout's.
ca_reported=${IU_CA_CERT:?IU_CA_CERT is required}
cafile=$(realpath -m "$ca_reported")
export XDG_DATA_HOME="$dir/data" XDG_CONFIG_HOME="$dir/config" HOME="$dir"

start() {
    mkdir -p "$dir"
    local caddyfile="$dir/Caddyfile"
    base64 -d <<<"${IU_CADDYFILE_B64:?IU_CADDYFILE_B64 is required}" >"$caddyfile.new"
    if daemon_alive "$pidfile" caddy && cmp -s "$caddyfile.new" "$caddyfile" && [[ -f $fpfile && $(<"$fpfile") == "$bin" ]] && serving; then
        rm -f "$caddyfile.new"
        echo "{\"pid\":$(<"$pidfile"),\"caCert\":\"$ca_reported\",\"started\":false}"
        return 0
    fi
    command -v "$bin" >/dev/null || {
        echo "caddy not found: $bin (run toolchain/setup-tools.sh)" >&2
        exit 1
    }
    mv "$caddyfile.new" "$caddyfile"
    "$bin" validate --adapter caddyfile --config "$caddyfile" >"$dir/validate.log" 2>&1 ||
        {
            cat "$dir/validate.log" >&2
            exit 1
        }
    daemon_stop "$pidfile" caddy INT 10
    daemon_start "$pidfile" "$logfile" "$bin" run --adapter caddyfile --config "$caddyfile"
    echo "$bin" >"$fpfile"
    # The CA appears when Caddy issues its first certificate; wait for it, then for the route.
    local deadline=$((SECONDS + ${IU_READY_TIMEOUT:?IU_READY_TIMEOUT is required (spacetimedb.ready_timeout_s)}))
    until [[ -s $cafile ]]; do
        daemon_alive "$pidfile" caddy || {
            tail -n 30 "$logfile" >&2
            exit 1
        }
        ((SECONDS < deadline)) || {
            echo "caddy created no CA within the timeout" >&2
            exit 1
        }
        sleep 0.2
    done
    wait_http "$url/v1/ping" "$((deadline - SECONDS > 1 ? deadline - SECONDS : 1))" "$pidfile" caddy "$logfile" --cacert "$cafile"
    echo "{\"pid\":$(<"$pidfile"),\"caCert\":\"$ca_reported\",\"started\":true}"
}

stop() {
    daemon_stop "$pidfile" caddy INT 10
}

# Caddy itself is healthy when it answers TLS with its certificate; a down upstream (502) is the
# server's drift, not the proxy's.
serving() {
    [[ -s $cafile ]] && [[ $(curl -sS --max-time 2 -o /dev/null -w '%{http_code}' --cacert "$cafile" "$url/v1/ping" 2>/dev/null) != 000 ]]
}

status() {
    daemon_alive "$pidfile" caddy && serving
}

case ${1:-} in
start)
    daemon_require_files
    start
    ;;
stop) stop ;;
status)
    daemon_require_files
    status
    ;;
*)
    echo "usage: proxy-ctl.sh start|stop|status" >&2
    exit 2
    ;;
esac
