#!/usr/bin/env bash
# Builds (once) the Debian bookworm rootfs the drill boots as a "prod host", and imports it into
# Docker. Cached under IU_CACHE by a key of the release, the package list and this script, built
# into *.partial and renamed only when complete. Prints the image name on stdout.
# Usage: ops/drill/host/rootfs.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../../toolchain/dockerd.sh
source "$here/../../../toolchain/dockerd.sh"
cache=${IU_CACHE:-$HOME/.cache/inner-universe}
mirror=${IU_DEBIAN_MIRROR:-http://deb.debian.org/debian}

RELEASE=bookworm
# What a Debian cloud image brings that the bootstrap relies on (cloud-init, systemd, curl, the
# XFS tools, rsyslog). python3-cffi-backend is named because debootstrap does not resolve the virtual
# package python3-cryptography needs. Nothing drill-specific is baked in: stand-ins are added per host.
PACKAGES=systemd,systemd-sysv,dbus,cloud-init,python3-cffi-backend,curl,ca-certificates,xfsprogs,rsyslog,logrotate,procps,iproute2,netbase,openssl

log() { printf '[drill-rootfs] %s\n' "$*" >&2; }

# Bump ROOTFS_VERSION when the build steps below change what ends up in the image.
ROOTFS_VERSION=1
key=$(printf '%s\n' "$ROOTFS_VERSION" "$RELEASE" "$PACKAGES" | sha256sum | cut -c1-12)
dir="$cache/drill-rootfs-$RELEASE-$key"
image="inner-universe-drill-host:$RELEASE-$key"

if [[ ! -f $dir/rootfs.tar ]]; then
    command -v debootstrap >/dev/null || {
        log "debootstrap is missing: run toolchain/setup-tools.sh"
        exit 1
    }
    start=$SECONDS
    log "debootstrap $RELEASE (one-time, ~2 min)"
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial/root"
    debootstrap --variant=minbase --include="$PACKAGES" "$RELEASE" "$dir.partial/root" "$mirror" >"$dir.partial/debootstrap.log" 2>&1 ||
        {
            tail -n 30 "$dir.partial/debootstrap.log" >&2
            exit 1
        }
    # A container has no consoles to log in on and no hardware clock; these only slow boot down.
    rm -f "$dir.partial/root/etc/systemd/system/getty.target.wants/"* || true
    tar -C "$dir.partial/root" --numeric-owner -cf "$dir.partial/rootfs.tar" .
    rm -rf "$dir.partial/root"
    rm -rf "$dir" && mv "$dir.partial" "$dir"
    log "rootfs built in $((SECONDS - start))s"
fi

ensure_dockerd >&2
if ! docker image inspect "$image" >/dev/null 2>&1; then
    log "docker import $image"
    docker import --change 'CMD ["/lib/systemd/systemd"]' "$dir/rootfs.tar" "$image" >/dev/null
fi
echo "$image"
