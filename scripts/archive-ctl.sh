#!/usr/bin/env bash
# The commitlog archiver beside a local server (toolchain/clog-archive, point-in-time recovery):
# every replica's commitlog under IU_ROOT_DIR/data/replicas is copied, whole verified commit by
# commit, into IU_ARCHIVE_DIR/<replica id> every IU_ARCHIVE_INTERVAL_MS. Run by server-ctl.sh.
#   archive-ctl.sh start|stop|status|check   (check: what start needs, before the server is started)
# Environment: IU_ARCHIVER_BIN IU_ROOT_DIR IU_ARCHIVE_DIR IU_ARCHIVE_INTERVAL_MS
#              IU_ARCHIVE_PID_FILE IU_ARCHIVE_LOG_FILE (named by infra/lib/localLayout.ts)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/daemon.sh
source "$here/lib/daemon.sh"

root=$(realpath -m "${IU_ROOT_DIR:?IU_ROOT_DIR is required}")
archive=$(realpath -m "${IU_ARCHIVE_DIR:?IU_ARCHIVE_DIR is required}")
bin=${IU_ARCHIVER_BIN:?IU_ARCHIVER_BIN is required}
pidfile=$(realpath -m "${IU_ARCHIVE_PID_FILE:?IU_ARCHIVE_PID_FILE is required}")
logfile=$(realpath -m "${IU_ARCHIVE_LOG_FILE:?IU_ARCHIVE_LOG_FILE is required}")
name=$(basename "$bin")

check() {
    # Inside the root it would be copied into every backup and moved aside by every restore.
    if [[ $archive == "$root" || $archive == "$root"/* ]]; then
        echo "the archive dir $archive is inside the server root $root: put it outside" >&2
        exit 1
    fi
    command -v "$bin" >/dev/null || {
        echo "archiver binary not found: $bin (run toolchain/setup-tools.sh dev)" >&2
        exit 1
    }
}

start() {
    check
    if daemon_alive "$pidfile" "$name"; then return 0; fi
    # The archive holds every row ever written: the owner's alone, like the root.
    mkdir -p "$archive"
    chmod 700 "$archive"
    (
        umask 077
        daemon_start "$pidfile" "$logfile" "$bin" archive --replicas "$root/data/replicas" --to "$archive" \
            --follow --interval-ms "${IU_ARCHIVE_INTERVAL_MS:?IU_ARCHIVE_INTERVAL_MS is required}"
    )
}

# SIGINT: the archiver makes one last pass (what the server wrote before it stopped) and exits.
stop() { daemon_stop "$pidfile" "$name" INT 30; }

status() { daemon_alive "$pidfile" "$name"; }

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
check) check ;;
*)
    echo "usage: archive-ctl.sh start|stop|status|check" >&2
    exit 2
    ;;
esac
