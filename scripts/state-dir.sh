#!/usr/bin/env bash
# The directory a local process keeps its state in (server root with data and JWT keys; the
# proxy's CA). Its own resource, so replacing the process never touches it; it is removed only
# when the stack is destroyed and IU_DELETE_ON_DESTROY=1, with the process's files beside it.
#   state-dir.sh create|delete     Environment: IU_DIR IU_PRIVATE_SUBDIRS (space-separated) IU_DELETE_ON_DESTROY (0/1)
#                                  IU_PID_FILE IU_LOG_FILE IU_FINGERPRINT_FILE (named by infra/lib/localLayout.ts)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/daemon.sh
source "$here/lib/daemon.sh"
dir=${IU_DIR:?IU_DIR is required}
case ${1:-} in
create)
    mkdir -p "$dir"
    for sub in ${IU_PRIVATE_SUBDIRS:-}; do
        mkdir -p "$dir/$sub"
        chmod 700 "$dir/$sub"
    done
    printf '{"dir":"%s"}\n' "$dir"
    ;;
delete)
    if [[ ${IU_DELETE_ON_DESTROY:?IU_DELETE_ON_DESTROY is required} == 1 ]]; then
        # A stack deployed before the paths were handed over: its files, as that version named them.
        rm -rf "$dir" "$(daemon_file IU_PID_FILE "$dir.pid")" "$(daemon_file IU_LOG_FILE "$dir.log")" \
            "$(daemon_file IU_FINGERPRINT_FILE "$dir.fingerprint")" "$dir.bin" "$dir.usage"
        rmdir --ignore-fail-on-non-empty "$(dirname "$dir")" 2>/dev/null || true
    fi
    ;;
*)
    echo "usage: state-dir.sh create|delete" >&2
    exit 2
    ;;
esac
