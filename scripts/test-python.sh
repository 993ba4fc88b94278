#!/usr/bin/env bash
# The Python Atlas reader's tests (stdlib package; pytest comes with the machine, or from PyPI).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/../readers/python"
python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install --quiet 'pytest>=7'
python3 -m pytest -q
