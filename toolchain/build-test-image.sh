#!/usr/bin/env bash
# Builds inner-universe/spacetimedb:<version>-local: the same spacetimedb-standalone the dev stack
# runs, in an image with the official image's contract (entrypoint `spacetime`, `--root-dir=/stdb
# start`, port 3000, non-root user) and busybox for the health check. No registry is reachable
# here, so the image is assembled FROM scratch from files on this machine.
#   build-test-image.sh [TAG]      Environment: IU_SERVER_BIN (default: spacetimedb-standalone on PATH)
set -euo pipefail
bin=$(command -v "${IU_SERVER_BIN:-spacetimedb-standalone}") || {
    echo "spacetimedb-standalone not found (run toolchain/setup-tools.sh)" >&2
    exit 1
}
version=$("$bin" --version | sed -n 's/.*tool version \([0-9.]*\);.*/\1/p' | head -n1)
tag=${1:-inner-universe/spacetimedb:$version-local}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root="$ctx/rootfs"
mkdir -p "$root/usr/local/bin" "$root/bin" "$root/etc" "$root/tmp" "$ctx/stdb"
chmod 1777 "$root/tmp"
cp "$bin" "$root/usr/local/bin/spacetimedb-standalone"
# The binary's shared libraries, at the paths the dynamic loader expects.
ldd "$bin" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\nspacetime:x:1000:1000::/stdb:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nspacetime:x:1000:\n' >"$root/etc/group"
cat >"$root/usr/local/bin/spacetime" <<'SHIM'
#!/bin/sh
# The official image's entrypoint contract: spacetime --root-dir=DIR start [ARGS...].
root=/stdb
case "$1" in --root-dir=*) root=${1#--root-dir=}; shift ;; esac
[ "$1" = start ] || { echo "this image supports only: spacetime --root-dir=DIR start [ARGS]" >&2; exit 2; }
shift
mkdir -p "$root/data" "$root/config"
exec /usr/local/bin/spacetimedb-standalone start --data-dir "$root/data" \
    --jwt-pub-key-path "$root/config/id_ecdsa.pub" --jwt-priv-key-path "$root/config/id_ecdsa" "$@"
SHIM
chmod +x "$root/usr/local/bin/spacetime"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
COPY --chown=1000:1000 stdb/ /stdb/
USER 1000:1000
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/spacetime"]
CMD ["--root-dir=/stdb", "start", "--listen-addr", "0.0.0.0:3000"]
DOCKERFILE
docker build -q -t "$tag" "$ctx" >/dev/null
echo "$tag"
