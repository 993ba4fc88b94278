#!/usr/bin/env bash
# Manages the local SpacetimeDB standalone server of one stack (runtime local).
#   server-ctl.sh start|stop|status
# Environment: IU_SERVER_BIN IU_ROOT_DIR IU_LISTEN (host:port) IU_READY_TIMEOUT
#              IU_IN_MEMORY (0/1) IU_LOG_LEVEL IU_SERVER_VERSION IU_DELETE_DATA (0/1, on stop)
# The whole root dir (data AND the JWT signing keys) lives under IU_ROOT_DIR: losing the keys
# would silently invalidate every token, including the deployer's.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/daemon.sh
source "$here/lib/daemon.sh"

root=${IU_ROOT_DIR:?IU_ROOT_DIR is required}
listen=${IU_LISTEN:?IU_LISTEN is required}
bin=${IU_SERVER_BIN:-spacetimedb-standalone}
pidfile="$root.pid"
logfile="$root.log"
name=$(basename "$bin")

start() {
    if daemon_alive "$pidfile" "$name" && curl -fsS --max-time 2 -o /dev/null "http://$listen/v1/ping"; then
        echo "{\"pid\":$(<"$pidfile"),\"url\":\"http://$listen\",\"started\":false}"
        return 0
    fi
    command -v "$bin" >/dev/null || { echo "server binary not found: $bin (run scripts/setup-tools.sh)" >&2; exit 1; }
    if [[ -n ${IU_SERVER_VERSION:-} ]] && ! "$bin" --version | grep -q "tool version $IU_SERVER_VERSION;"; then
        echo "$bin is not SpacetimeDB $IU_SERVER_VERSION: $("$bin" --version | head -n1)" >&2
        exit 1
    fi
    mkdir -p "$root/data" "$root/config"
    chmod 700 "$root/config"
    local args=(start --data-dir "$root/data" --jwt-pub-key-path "$root/config/id_ecdsa.pub"
        --jwt-priv-key-path "$root/config/id_ecdsa" --listen-addr "$listen")
    [[ ${IU_IN_MEMORY:-0} == 1 ]] && args+=(--in-memory)
    RUST_LOG=${IU_LOG_LEVEL:-info} SPACETIMEDB_DISABLE_DISK_LOGGING=1 daemon_start "$pidfile" "$logfile" "$bin" "${args[@]}"
    wait_http "http://$listen/v1/ping" "${IU_READY_TIMEOUT:-60}" "$pidfile" "$name" "$logfile"
    echo "{\"pid\":$(<"$pidfile"),\"url\":\"http://$listen\",\"started\":true}"
}

stop() {
    # SIGINT is the only graceful shutdown; SIGTERM is a hard stop that forces commitlog recovery.
    daemon_stop "$pidfile" "$name" INT 30
    if [[ ${IU_DELETE_DATA:-0} == 1 ]]; then
        rm -rf "$root" "$logfile"
    fi
}

status() {
    daemon_alive "$pidfile" "$name" && curl -fsS --max-time 2 -o /dev/null "http://$listen/v1/ping"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
*) echo "usage: server-ctl.sh start|stop|status" >&2; exit 2 ;;
esac
