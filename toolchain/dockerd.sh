#!/usr/bin/env bash
# ensure_dockerd: a running Docker daemon (Debian's docker.io). Machines here have no systemd
# init, so start dockerd directly; vfs storage works on every filesystem.
ensure_dockerd() {
    if docker info >/dev/null 2>&1; then return 0; fi
    local log=${IU_CACHE:-$HOME/.cache/inner-universe}/dockerd.log i
    if command -v systemctl >/dev/null && systemctl start docker >/dev/null 2>&1; then :; else
        setsid dockerd --storage-driver=vfs >"$log" 2>&1 </dev/null &
    fi
    for ((i = 0; i < 150; i++)); do
        docker info >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "dockerd did not start; see $log" >&2
    tail -n 20 "$log" >&2 || true
    return 1
}
