"""Every sample in readers/samples/cases.json, through the packaged schema (what Atlas installs)."""

import json

import pytest

from conftest import COMMITTED_SCHEMA, SAMPLES, load_cases
from inner_universe_atlas import AtlasReadError, load_schema, parse

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_sample(case):
    text = (SAMPLES / case["file"]).read_text(encoding="utf-8")
    if case["expect"] == "ok":
        atlas = parse(text)
        raw = json.loads(text)
        expected = raw.get("atlas", raw)
        assert atlas.raw == expected
        assert atlas.http_url == expected["http"]["url"]
        assert atlas.ws_url.startswith("wss://")
        assert atlas.database_name == "inner-universe"
        assert atlas.tls_enabled is True and atlas.ca_cert_path.endswith("root.crt")
        return
    with pytest.raises(AtlasReadError) as err:
        parse(text)
    assert err.value.kind == case["expect"], str(err.value)
    if "path" in case:
        assert case["path"] in [p.path for p in err.value.problems], str(err.value)


def test_cases_cover_every_sample_file():
    listed = {c["file"] for c in CASES}
    on_disk = {str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*") if p.is_file() and p.name not in ("cases.json", "README.md")}
    assert listed == on_disk


def test_packaged_schema_is_the_committed_schema():
    assert COMMITTED_SCHEMA.exists(), f"{COMMITTED_SCHEMA} is missing: run `npm run schema:atlas`"
    packaged = load_schema().document
    committed = json.loads(COMMITTED_SCHEMA.read_text(encoding="utf-8"))
    assert packaged == committed, (
        "readers/python/src/inner_universe_atlas/atlas.schema.json differs from infra/contract/atlas.schema.json: "
        "copy the committed schema into the package"
    )


def test_version_messages_say_what_to_do():
    def message(name):
        with pytest.raises(AtlasReadError) as err:
            parse((SAMPLES / "malformed" / name).read_text(encoding="utf-8"))
        return str(err.value)

    assert "redeploy the stack" in message("schema-version-older.json")
    assert "upgrade inner-universe-atlas" in message("schema-version-newer.json")
    assert "schemaVersion is missing" in message("schema-version-missing.json")


def test_reader_version_follows_the_schema(tmp_path, real_output_text):
    """A schema generated for version 2 rejects today's output as older: no version is hard-coded."""
    doc = load_schema().document
    doc["properties"]["schemaVersion"]["const"] = 2
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(AtlasReadError) as err:
        parse(real_output_text, load_schema(path))
    assert err.value.kind == "version-older"
