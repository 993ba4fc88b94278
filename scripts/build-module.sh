#!/usr/bin/env bash
# Builds the SpacetimeDB module (module/, crate inner_universe_module) to
# wasm32-unknown-unknown, reproducibly, without `rustup target add`.
#
# Toolchain: Debian bookworm-security rustc-web/cargo-web 1.96 (with std source
# in rust-web-src) building std from source (-Zbuild-std). RUSTC_BOOTSTRAP=1 is
# set only in the environment of that one cargo command.
#
# Usage: scripts/build-module.sh [--target-dir DIR]
#   --target-dir DIR  cargo target directory (default: <module>/target)
# Environment:
#   IU_MODULE_DIR     crate directory (required; the program passes module.dir)
#
# Stdout: exactly one line, the last: {"wasm":"<abs path>","sha256":"<hex>","bytes":N}
# Everything else goes to stderr.
set -euo pipefail

# Keep stdout for the final JSON line only.
exec 3>&1 1>&2

readonly DEB_RUSTC=/usr/bin/rustc
readonly DEB_CARGO=/usr/bin/cargo
readonly STD_SRC=/usr/lib/rustlib/src/rust
readonly WASM_TARGET=wasm32-unknown-unknown
readonly CRATE=inner_universe_module

die() {
    echo "build-module: $*" >&2
    exit 1
}

usage() {
    sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

module_dir=${IU_MODULE_DIR:?IU_MODULE_DIR is required: the crate directory (the program passes module.dir)}
target_dir=""

while [ $# -gt 0 ]; do
    case "$1" in
    --target-dir)
        [ $# -ge 2 ] || die "--target-dir needs a value"
        target_dir=$2
        shift 2
        ;;
    --target-dir=*)
        target_dir=${1#--target-dir=}
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        die "unknown argument: $1 (see --help)"
        ;;
    esac
done

[ -f "$module_dir/Cargo.toml" ] || die "no Cargo.toml in module dir '$module_dir' (set IU_MODULE_DIR)"
module_dir=$(cd "$module_dir" && pwd -P)
[ -n "$target_dir" ] || target_dir="$module_dir/target"
mkdir -p "$target_dir"
target_dir=$(cd "$target_dir" && pwd -P)

# --- Debian toolchain: scripts/setup-tools.sh installs it (one package list); a build only checks
fix="run: bash scripts/setup-tools.sh"
[ -x "$DEB_RUSTC" ] || die "$DEB_RUSTC not found (Debian rustc-web); $fix"
[ -x "$DEB_CARGO" ] || die "$DEB_CARGO not found (Debian cargo-web); $fix"
[ -d "$STD_SRC/library" ] || die "std source not found at $STD_SRC/library (Debian rust-web-src); $fix"
echo "build-module: $("$DEB_RUSTC" --version), $("$DEB_CARGO" --version)" >&2

# --- Reproducible flags --------------------------------------------------------
# Paths that could leak into the artifact (panic locations, file!()) are
# remapped to fixed prefixes, so the wasm does not depend on where the checkout,
# the cargo home or the target dir live. rustc applies the last matching remap,
# so the more specific target dir (often inside the module dir) comes last.
cargo_home=${CARGO_HOME:-"$HOME/.cargo"}
rustflags=(
    "--remap-path-prefix=$cargo_home=/cargo"
    "--remap-path-prefix=$STD_SRC=/rustc/src"
    "--remap-path-prefix=$module_dir=/build/module"
    "--remap-path-prefix=$target_dir=/build/target"
    "-Cdebuginfo=0"
    "-Cstrip=symbols"
)
encoded_rustflags=$(
    IFS=$'\x1f'
    printf '%s' "${rustflags[*]}"
)

start=$(date +%s)
(
    cd "$module_dir"
    env -u RUSTFLAGS -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u CARGO_BUILD_RUSTC_WRAPPER \
        -u RUSTUP_TOOLCHAIN -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET \
        RUSTC="$DEB_RUSTC" \
        RUSTC_BOOTSTRAP=1 \
        CARGO_ENCODED_RUSTFLAGS="$encoded_rustflags" \
        CARGO_INCREMENTAL=0 \
        SOURCE_DATE_EPOCH=0 \
        "$DEB_CARGO" build \
        --release \
        --locked \
        --target "$WASM_TARGET" \
        -Zbuild-std=std,panic_abort \
        --target-dir "$target_dir"
)
echo "build-module: cargo build took $(($(date +%s) - start))s" >&2

wasm="$target_dir/$WASM_TARGET/release/$CRATE.wasm"
[ -f "$wasm" ] || die "build finished but $wasm is missing"
sha=$(sha256sum "$wasm" | cut -d' ' -f1)
bytes=$(stat -c %s "$wasm")
json_path=$(printf '%s' "$wasm" | sed 's/\\/\\\\/g; s/"/\\"/g')
printf '{"wasm":"%s","sha256":"%s","bytes":%s}\n' "$json_path" "$sha" "$bytes" >&3
