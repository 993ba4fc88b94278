#!/usr/bin/env bash
# Manages the local SpacetimeDB standalone server of one stack (runtime local).
#   server-ctl.sh start|stop|status     (the root dir itself is managed by state-dir.sh)
# Environment: IU_SERVER_BIN IU_ROOT_DIR IU_LISTEN (host:port) IU_READY_TIMEOUT
#              IU_IN_MEMORY (0/1) IU_LOG_LEVEL IU_SERVER_VERSION
#              IU_PID_FILE IU_LOG_FILE IU_FINGERPRINT_FILE (named by infra/lib/localLayout.ts)
#              IU_ARCHIVE_DIR (optional): the commitlog archiver (archive-ctl.sh) starts and stops with it
# The whole root dir (data AND the JWT signing keys) lives under IU_ROOT_DIR: losing the keys
# would silently invalidate every token, including the deployer's.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/daemon.sh
source "$here/lib/daemon.sh"

# Relative to the project root (where the engine runs steps); the process gets absolute paths.
root=$(realpath -m "${IU_ROOT_DIR:?IU_ROOT_DIR is required}")
listen=${IU_LISTEN:?IU_LISTEN is required}
bin=${IU_SERVER_BIN:?IU_SERVER_BIN is required}
pidfile=$(daemon_file IU_PID_FILE "$root.pid")
logfile=$(daemon_file IU_LOG_FILE "$root.log")
fpfile=$(daemon_file IU_FINGERPRINT_FILE "$root.fingerprint")
name=$(basename "$bin")

start() {
    local args=(start --data-dir "$root/data" --jwt-pub-key-path "$root/config/id_ecdsa.pub"
        --jwt-priv-key-path "$root/config/id_ecdsa" --listen-addr "$listen")
    [[ ${IU_IN_MEMORY:?IU_IN_MEMORY is required} == 1 ]] && args+=(--in-memory)
    # What the process runs with; a running server with another fingerprint is restarted. The
    # version is part of it: a changed spacetimedb.version is a restart on that version or a refusal,
    # never a server left running on the old one while the outputs name the new.
    local fingerprint="$bin ${args[*]} log=${IU_LOG_LEVEL:?IU_LOG_LEVEL is required}${IU_SERVER_VERSION:+ version=$IU_SERVER_VERSION}"
    if daemon_alive "$pidfile" "$name" && [[ -f $fpfile && $(<"$fpfile") == "$fingerprint" ]] &&
        curl -fsS --max-time 2 -o /dev/null "http://$listen/v1/ping"; then
        chmod -R go-rwx "$root"
        archiver start
        echo "{\"pid\":$(<"$pidfile"),\"url\":\"http://$listen\",\"started\":false}"
        return 0
    fi
    command -v "$bin" >/dev/null || {
        echo "server binary not found: $bin (run toolchain/setup-tools.sh)" >&2
        exit 1
    }
    if [[ -n ${IU_SERVER_VERSION:-} ]] && ! "$bin" --version | grep -q "tool version $IU_SERVER_VERSION;"; then
        echo "$bin is not SpacetimeDB $IU_SERVER_VERSION: $("$bin" --version | head -n1)" >&2
        exit 1
    fi
    refuse_downgrade
    # A missing archiver is refused before the server starts: a server started by a step that then
    # fails is one the stack's state does not record, and no destroy would stop.
    archiver check
    stop
    mkdir -p "$root/data" "$root/config"
    # The root holds the private JWT signing key (1.2 writes it 0644): the owner's alone, and so is
    # everything the server writes from here on (umask 077).
    chmod -R go-rwx "$root"
    (
        umask 077
        RUST_LOG=${IU_LOG_LEVEL:?IU_LOG_LEVEL is required} SPACETIMEDB_DISABLE_DISK_LOGGING=1 daemon_start "$pidfile" "$logfile" "$bin" "${args[@]}"
    )
    echo "$fingerprint" >"$fpfile"
    wait_http "http://$listen/v1/ping" "${IU_READY_TIMEOUT:?IU_READY_TIMEOUT is required (spacetimedb.ready_timeout_s)}" "$pidfile" "$name" "$logfile"
    archiver start
    echo "{\"pid\":$(<"$pidfile"),\"url\":\"http://$listen\",\"started\":true}"
}

# A server start writes its version into data/metadata.toml, and an older server then refuses the
# root ("a newer, incompatible version"): the only way back is a backup taken before the upgrade.
# Checked before the running server is stopped, so a refused downgrade changes nothing at all.
refuse_downgrade() {
    local meta="$root/data/metadata.toml" disk ours
    [[ -f $meta ]] || return 0
    disk=$(sed -n 's/^version = "\([0-9][0-9.]*\)"$/\1/p' "$meta" | head -n1)
    ours=$("$bin" --version | sed -n 's/.*tool version \([0-9][0-9.]*\);.*/\1/p' | head -n1)
    [[ -n $disk && -n $ours && $disk != "$ours" ]] || return 0
    if [[ $(printf '%s\n%s\n' "$disk" "$ours" | sort -V | tail -n1) == "$disk" ]]; then
        echo "refusing a downgrade: the server root $root was last run by SpacetimeDB $disk and $bin is $ours." >&2
        echo "SpacetimeDB upgrades are one-way (data/metadata.toml): $ours cannot open this root, and nothing was stopped." >&2
        echo "To run $ours again, restore a backup taken before the upgrade: npm run ops -- backup list --stack STACK, then backup restore --stack STACK --id ID" >&2
        exit 1
    fi
}

# archiver start|stop|check: the point-in-time archive follows the server's lifetime (a stack without
# IU_ARCHIVE_DIR has none: the program sets it for every local server with a root on disk).
archiver() {
    [[ -n ${IU_ARCHIVE_DIR:-} ]] || return 0
    bash "$here/archive-ctl.sh" "$1"
}

stop() {
    # SIGINT is the shutdown signal SpacetimeDB documents (graceful on 2.x). The 1.2 standalone binary
    # installs no handler, so there any signal is an abrupt stop that the commitlog recovers from.
    daemon_stop "$pidfile" "$name" INT 30
    # After the server: the archiver's last pass takes what the server wrote before it stopped.
    archiver stop
}

status() {
    daemon_alive "$pidfile" "$name" && curl -fsS --max-time 2 -o /dev/null "http://$listen/v1/ping"
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
    echo "usage: server-ctl.sh start|stop|status" >&2
    exit 2
    ;;
esac
