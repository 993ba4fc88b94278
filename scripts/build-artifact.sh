#!/usr/bin/env bash
# Builds the module (scripts/build-module.sh) and stores the wasm content-addressed at IU_ARTIFACT,
# so the publish step reads a file no later build can overwrite.
# Environment: IU_MODULE_DIR IU_ARTIFACT IU_TARGET_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
artifact=${IU_ARTIFACT:?IU_ARTIFACT is required}
report() { printf '{"wasm":"%s","sha256":"%s","bytes":%s}\n' "$artifact" "$(sha256sum "$artifact" | cut -d' ' -f1)" "$(stat -c %s "$artifact")"; }
# The artifact name is the hash of the sources it was built from: an existing one is that build.
if [[ -s $artifact ]]; then
    report
    exit 0
fi
line=$(bash "$here/build-module.sh" --target-dir "${IU_TARGET_DIR:?IU_TARGET_DIR is required}" | tail -n 1)
wasm=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).wasm)' "$line")
mkdir -p "$(dirname "$artifact")"
cp "$wasm" "$artifact.tmp"
mv "$artifact.tmp" "$artifact"
report
