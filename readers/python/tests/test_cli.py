"""python -m inner_universe_atlas, as Atlas's operators run it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLES

SRC = str(Path(__file__).resolve().parents[1] / "src")


def cli(*args, stdin=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "inner_universe_atlas", *args],
        input=stdin, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": SRC, **(env or {})},
    )


def test_file_prints_the_validated_atlas():
    r = cli("--file", str(SAMPLES / "dev-stack-output.json"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads((SAMPLES / "dev-stack-output.json").read_text())["atlas"]


def test_stdin():
    r = cli("-", stdin=(SAMPLES / "dev-atlas-only.json").read_text())
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["schemaVersion"] == 1


def test_malformed_exits_1_with_kind_and_reason():
    r = cli("--file", str(SAMPLES / "malformed" / "schema-version-older.json"))
    assert r.returncode == 1
    assert r.stderr.startswith("inner-universe-atlas: version-older: atlas schemaVersion 0 is older")
    assert r.stdout == ""


def test_no_source_is_a_usage_error():
    assert cli().returncode == 2


def test_stack_runs_pulumi_stack_output_json(tmp_path):
    log = tmp_path / "args"
    fake = tmp_path / "pulumi"
    fake.write_text(f'#!/usr/bin/env bash\necho "$*" > {log}\ncat {SAMPLES / "dev-stack-output.json"}\n')
    fake.chmod(0o755)
    r = cli("--stack", "dev", env={"PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert r.returncode == 0, r.stderr
    assert log.read_text().strip() == "stack output --json --stack dev"


def test_stack_failure_is_an_input_error(tmp_path):
    fake = tmp_path / "pulumi"
    fake.write_text("#!/usr/bin/env bash\necho \"error: no stack named 'qa' found\" >&2\nexit 255\n")
    fake.chmod(0o755)
    r = cli("--stack", "qa", env={"PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert r.returncode == 1
    assert "input" in r.stderr and "no stack named 'qa' found" in r.stderr
