"""Reads the `atlas` stack output and validates it against the atlas JSON Schema (with `jsonschema`)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from .schema import SchemaProblem, check_schema, describe, validate

#: Overrides the packaged schema (e.g. the repository's infra/contract/atlas.schema.json).
SCHEMA_ENV = "IU_ATLAS_SCHEMA"


class AtlasReadError(Exception):
    """Why an atlas output cannot be used. `kind` is one of: input, version-missing,
    version-invalid, version-older, version-newer, invalid."""

    def __init__(self, kind: str, message: str, problems: Optional[List[SchemaProblem]] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.problems = problems or []


@dataclass(frozen=True)
class AtlasSchema:
    document: Dict[str, Any]
    version: int


@dataclass(frozen=True)
class Atlas:
    """The validated atlas output; `raw` keeps the whole object."""

    schema_version: int
    environment: str
    stack: str
    runtime: str
    http_url: str
    ws_url: str
    database_name: str
    database_identity: Optional[str]
    module_sha256: str
    server_version: str
    tls_enabled: bool
    ca_cert_path: Optional[str]
    deployer_identity: str
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Atlas":
        return cls(
            schema_version=d["schemaVersion"],
            environment=d["environment"],
            stack=d["stack"],
            runtime=d["runtime"],
            http_url=d["http"]["url"],
            ws_url=d["ws"]["url"],
            database_name=d["database"]["name"],
            database_identity=d["database"].get("identity"),
            module_sha256=d["module"]["sha256"],
            server_version=d["server"]["version"],
            tls_enabled=d["tls"]["enabled"],
            ca_cert_path=d["tls"].get("caCertPath"),
            deployer_identity=d["deployer"]["identity"],
            raw=d,
        )


def load_schema(path: Union[str, Path, None] = None) -> AtlasSchema:
    """The schema at `path`, else $IU_ATLAS_SCHEMA, else the copy packaged with this reader."""
    chosen = path or os.environ.get(SCHEMA_ENV)
    if chosen:
        text = Path(chosen).read_text(encoding="utf-8")
    else:
        text = resources.files("inner_universe_atlas").joinpath("atlas.schema.json").read_text(encoding="utf-8")
    document = json.loads(text)
    check_schema(document)
    return AtlasSchema(document, schema_version_of(document))


def schema_version_of(document: Dict[str, Any]) -> int:
    v = document.get("properties", {}).get("schemaVersion", {}).get("const")
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError("the atlas JSON Schema has no integer properties.schemaVersion.const; regenerate it (npm run schema:atlas)")
    return v


def parse(text: str, schema: Optional[AtlasSchema] = None) -> Atlas:
    """Validates the text of `pulumi stack output --json` (or `... atlas --json`)."""
    try:
        parsed = json.loads(text)
    except ValueError as e:
        raise AtlasReadError("input", f"stack output is not JSON ({e}); pass the output of `pulumi stack output --json`") from None
    return check(pick_atlas(parsed), schema or load_schema())


def pick_atlas(parsed: Any) -> Any:
    """`{"atlas": {...}}` from `pulumi stack output --json`, or the atlas object itself
    (recognised by its schemaVersion key) from `pulumi stack output atlas --json`."""
    if not isinstance(parsed, dict):
        raise AtlasReadError("input", f"stack output must be a JSON object, got {describe(parsed)}")
    if "atlas" in parsed:
        if parsed["atlas"] == "[secret]":
            raise AtlasReadError("input", "the atlas output is marked secret; it must be a plain output (it holds no secrets by contract)")
        return parsed["atlas"]
    if "schemaVersion" in parsed:
        return parsed
    keys = ", ".join(parsed) or "none"
    raise AtlasReadError("input", f"no `atlas` output in the stack outputs (keys: {keys}); deploy the stack with `pulumi up` first")


def check(atlas: Any, schema: AtlasSchema) -> Atlas:
    if not isinstance(atlas, dict):
        raise AtlasReadError("input", f"the atlas output must be an object, got {describe(atlas)}")
    check_version(atlas.get("schemaVersion", _MISSING), schema.version)
    problems = validate(schema.document, atlas, "atlas")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise AtlasReadError(
            "invalid",
            f"atlas output violates the contract (schemaVersion {schema.version}):\n{lines}\n"
            "The stack writes this output: redeploy it with the current program (`pulumi up`) rather than editing it by hand.",
            problems,
        )
    return Atlas.from_dict(atlas)


_MISSING = object()


def check_version(found: Any, expected: int) -> None:
    """A version mismatch gets its own message: the fix differs (redeploy vs upgrade the reader)."""
    if found is _MISSING:
        raise AtlasReadError(
            "version-missing",
            "atlas.schemaVersion is missing: the output predates the versioned contract or was edited by hand; "
            f"redeploy the stack (`pulumi up`) so it emits schemaVersion {expected}",
        )
    if isinstance(found, bool) or not isinstance(found, (int, float)) or not float(found).is_integer():
        raise AtlasReadError("version-invalid", f"atlas.schemaVersion must be an integer, got {describe(found)}")
    if found < expected:
        raise AtlasReadError(
            "version-older",
            f"atlas schemaVersion {int(found)} is older than this reader supports ({expected}): redeploy the stack with the "
            f"current program (`pulumi up`), or use a reader released for schemaVersion {int(found)}",
        )
    if found > expected:
        raise AtlasReadError(
            "version-newer",
            f"atlas schemaVersion {int(found)} is newer than this reader understands ({expected}): "
            f"upgrade inner-universe-atlas to a release built for schemaVersion {int(found)}",
        )


def read_file(path: Union[str, Path], schema: Optional[AtlasSchema] = None) -> Atlas:
    return parse(Path(path).read_text(encoding="utf-8"), schema)


def read_stack(stack: str, cwd: Union[str, Path, None] = None, pulumi: str = "pulumi", env: Optional[Dict[str, str]] = None,
               schema: Optional[AtlasSchema] = None) -> Atlas:
    """Runs `pulumi stack output --json --stack STACK` in `cwd` (the directory with Pulumi.yaml)."""
    try:
        done = subprocess.run(
            [pulumi, "stack", "output", "--json", "--stack", stack],
            cwd=cwd, env=env, capture_output=True, text=True, check=False,
        )
    except OSError as e:
        raise AtlasReadError("input", f"cannot run {pulumi}: {e}") from None
    if done.returncode != 0:
        raise AtlasReadError("input", f"`pulumi stack output --json --stack {stack}` failed: {done.stderr.strip()}")
    return parse(done.stdout, schema)
