#!/usr/bin/env bash
# The Python Atlas reader's tests. First installs the reader's pinned dependencies (jsonschema,
# regress) and its test extra (pytest) into python3, as read from readers/python/pyproject.toml;
# pip leaves requirements that are already satisfied alone, so a second run installs nothing.
#   bash toolchain/test-python.sh          install, then pytest
#   bash toolchain/test-python.sh --deps   install only (test/readers/readers.test.ts runs this)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkg="$here/../readers/python"

requirements() {
    python3 - "$pkg/pyproject.toml" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["test"]))
PY
}

mapfile -t reqs < <(requirements)
# Installer chatter goes to stderr: scripts/test.sh reads pytest's summary from stdout.
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "${reqs[@]}" >&2
[[ ${1:-} == --deps ]] && exit 0
cd "$pkg"
python3 -m pytest -q
