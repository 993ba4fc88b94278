#!/usr/bin/env bash
# Creates and boots one drill "prod host": a systemd container from the drill image, its data
# volume passed in as /dev/nvme1n1 (where an EBS volume appears on a Nitro instance), the files of
# FILES_DIR (cloud-init seed, drill stand-ins, trusted CA) copied onto its root before first boot.
#   host.sh start NAME IMAGE NETWORK LOOP_DEV DOMAIN FILES_DIR
#   host.sh services NAME IMAGE NETWORK DIR MIRROR_DIR CADDY_BIN ALIAS...   the mirror + ACME CA container
#   host.sh deployer NAME IMAGE NETWORK REPO NODE DIR   the deploy runner (the deploy address)
#   host.sh remove NAME
set -euo pipefail

die() {
    printf '[drill-host] %s\n' "$*" >&2
    exit 1
}

case ${1:-} in
start)
    [[ $# == 7 ]] || die "usage: host.sh start NAME IMAGE NETWORK LOOP_DEV DOMAIN FILES_DIR"
    name=$2 image=$3 network=$4 loop=$5 domain=$6 files=$7
    # systemd as PID 1 needs CAP_SYS_ADMIN, its own /run and the cgroup tree; SIGRTMIN+3 is its
    # clean shutdown, so `docker stop`/`restart` is a reboot (units stopped, /stdb unmounted).
    # CAP_SYS_PTRACE, which root has on an EC2 host and Docker drops: with it systemd can map the
    # user namespace of a unit with User=, PrivateUsers= and ProtectProc= (it writes the uid_map
    # of a process its hidepid /proc would otherwise hide; without it: exit 217/USER).
    docker create --name "$name" --hostname ip-10-0-1-10 \
        --network "$network" --network-alias "$domain" \
        --cap-add SYS_ADMIN --cap-add SYS_PTRACE --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
        --device "$loop:/dev/nvme1n1" \
        --stop-signal SIGRTMIN+3 --stop-timeout 90 \
        "$image" /lib/systemd/systemd >/dev/null
    tar -C "$files" --owner=0 --group=0 -c . | docker cp - "$name:/"
    docker start "$name" >/dev/null
    ;;
services)
    (($# >= 8)) || die "usage: host.sh services NAME IMAGE NETWORK DIR MIRROR_DIR CADDY_BIN ALIAS..."
    name=$2 image=$3 network=$4 dir=$5 mirror=$6 caddy=$7
    shift 7
    aliases=()
    for a in "$@"; do aliases+=(--network-alias "$a"); done
    docker run -d --name "$name" --network "$network" "${aliases[@]}" \
        -v "$dir:/srv" -v "$mirror:/srv/mirror:ro" -v "$caddy:/usr/local/bin/caddy:ro" -e XDG_DATA_HOME=/srv/data -e XDG_CONFIG_HOME=/srv/config \
        "$image" /usr/local/bin/caddy run --config /srv/Caddyfile --adapter caddyfile >/dev/null
    ;;
deployer)
    [[ $# == 7 ]] || die "usage: host.sh deployer NAME IMAGE NETWORK REPO NODE DIR"
    # The checkout read-only (the providers and the built module), Node, and a directory for its in- and output.
    docker run -d --name "$2" --network "$4" -v "$5:/repo:ro" -v "$6:/usr/local/bin/node:ro" -v "$7:/drill" -w /repo \
        "$3" sleep infinity >/dev/null
    ;;
remove)
    [[ $# == 2 ]] || die "usage: host.sh remove NAME"
    docker rm -f "$2" >/dev/null 2>&1 || true
    ;;
*) die "usage: host.sh start|services|remove …" ;;
esac
