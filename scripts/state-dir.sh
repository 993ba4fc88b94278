#!/usr/bin/env bash
# The directory a local process keeps its state in (server root with data and JWT keys; the
# proxy's CA). Its own resource, so replacing the process never touches it; it is removed only
# when the stack is destroyed and IU_DELETE_ON_DESTROY=1.
#   state-dir.sh create|delete     Environment: IU_DIR IU_PRIVATE_SUBDIRS (space-separated) IU_DELETE_ON_DESTROY (0/1)
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
        rm -rf "$dir" "$dir.log" "$dir.pid" "$dir.fingerprint" "$dir.bin"
        rmdir --ignore-fail-on-non-empty "$(dirname "$dir")" 2>/dev/null || true
    fi
    ;;
*)
    echo "usage: state-dir.sh create|delete" >&2
    exit 2
    ;;
esac
