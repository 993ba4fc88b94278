#!/usr/bin/env bash
# The directory a local process keeps its state in (server root with data and JWT keys; the
# proxy's CA). Its own resource, so replacing the process never touches it; it is removed only
# when the stack is destroyed and IU_DELETE_ON_DESTROY=1, with the process's files beside it.
#   state-dir.sh create|delete     Environment: IU_DIR IU_PRIVATE_SUBDIRS (space-separated) IU_DELETE_ON_DESTROY (0/1)
#                                  IU_PID_FILE IU_LOG_FILE IU_FINGERPRINT_FILE (named by infra/lib/localLayout.ts)
set -euo pipefail
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
        rm -rf "$dir" "${IU_PID_FILE:?IU_PID_FILE is required}" "${IU_LOG_FILE:?IU_LOG_FILE is required}" \
            "${IU_FINGERPRINT_FILE:?IU_FINGERPRINT_FILE is required}" "$dir.bin" # .bin: the proxy's fingerprint before these were named

        rmdir --ignore-fail-on-non-empty "$(dirname "$dir")" 2>/dev/null || true
    fi
    ;;
*)
    echo "usage: state-dir.sh create|delete" >&2
    exit 2
    ;;
esac
