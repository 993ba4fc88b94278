#!/usr/bin/env bash
# Sourced by the entry points that run the Pulumi CLI (dev.sh, ci/*.sh): the environment a user's
# own `pulumi` would need here, and nothing else. What runs afterwards is the plain CLI.
#   PULUMI_BACKEND_URL   default file://<repo>/.iu/state (a local file backend, no cloud account)
#   passphrase           PULUMI_CONFIG_PASSPHRASE(_FILE) if set, else one generated per checkout in .iu/passphrase
# Pulumi writes the passphrase salt into Pulumi.<stack>.yaml; the state holds the same salt, and
# PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER makes a stack file without one reuse it. So the salt is
# machine data, not project data: pulumi_clean_stack_file keeps it out of the committed files.
pulumi_env() {
    local repo=$1
    if [[ -z ${PULUMI_BACKEND_URL:-} ]]; then
        mkdir -p "$repo/.iu/state"
        export PULUMI_BACKEND_URL="file://$repo/.iu/state"
    fi
    if [[ -z ${PULUMI_CONFIG_PASSPHRASE+set} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
        local file="$repo/.iu/passphrase"
        if [[ ! -s $file ]]; then
            mkdir -p "$(dirname "$file")"
            (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$file")
        fi
        export PULUMI_CONFIG_PASSPHRASE_FILE="$file"
    fi
    export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true PULUMI_SKIP_UPDATE_CHECK=true
    export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
    # The dynamic providers are .ts files Node loads by type stripping; without "type" in
    # package.json (the program is CommonJS under ts-node) Node warns once per provider process, and
    # the CLI would print that warning into every preview and PR comment.
    export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--disable-warning=MODULE_TYPELESS_PACKAGE_JSON"
    # Every `pulumi` run starts four Node processes (language host, program, policy pack, dynamic
    # providers) that load the same large modules; V8's compile cache makes a no-op up ≈15% faster.
    export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-${IU_CACHE:-$HOME/.cache/inner-universe}/node-compile-cache}"
}

# pulumi_clean_stack_file FILE: removes the secrets-provider lines Pulumi adds to a stack file
# that had none (salt, provider, wrapped key); a file that carried its own is left alone.
pulumi_clean_stack_file() {
    local file=$1 had=$2
    [[ -f $file && $had == no ]] || return 0
    sed -i -E '/^(encryptionsalt|secretsprovider|encryptedkey): /d' "$file"
}

# pulumi_has_provider_lines FILE: "yes" when the stack file already names its secrets provider.
pulumi_has_provider_lines() {
    if [[ -f $1 ]] && grep -qE '^(encryptionsalt|secretsprovider|encryptedkey): ' "$1"; then echo yes; else echo no; fi
}
