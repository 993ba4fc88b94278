import json
from pathlib import Path

import pytest

READERS = Path(__file__).resolve().parents[2]
SAMPLES = READERS / "samples"
REPO = READERS.parent
COMMITTED_SCHEMA = REPO / "infra" / "contract" / "atlas.schema.json"


def load_cases():
    return json.loads((SAMPLES / "cases.json").read_text(encoding="utf-8"))


@pytest.fixture
def real_output_text() -> str:
    return (SAMPLES / "dev-stack-output.json").read_text(encoding="utf-8")
