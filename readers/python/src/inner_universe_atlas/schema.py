"""Validation against the atlas JSON Schema with `jsonschema` (draft 2020-12).

JSON Schema specifies ECMA-262 regular expressions for `pattern`; `jsonschema` evaluates them with
Python's `re`, where `$` also matches before a final newline and `\\d`/`\\w` match non-ASCII digits
and letters. The `pattern` keyword is therefore evaluated with `regress` (Rust's ECMA-262 engine, the
one `jsonschema` itself suggests for the `regex` format), so both readers accept the same strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Iterator, List

try:
    import regress
    from jsonschema import Draft202012Validator, ValidationError, validators
    from jsonschema.exceptions import SchemaError
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"inner-universe-atlas needs the {e.name!r} package: install the reader with its dependencies "
        "(`pip install ./readers/python`, or `bash scripts/test-python.sh --deps` in the repository)"
    ) from e


@dataclass(frozen=True)
class SchemaProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@lru_cache(maxsize=None)
def ecma_regex(pattern: str) -> regress.Regex:
    # "u": JSON Schema patterns are Unicode-aware ECMA-262 (code points, not UTF-16 units).
    return regress.Regex(pattern, "u")


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and ecma_regex(pattern).find(instance) is None:
        yield ValidationError(f"{json.dumps(instance)} does not match {pattern}")


AtlasValidator = validators.extend(Draft202012Validator, validators={"pattern": _ecma_pattern})


def check_schema(schema: Dict[str, Any]) -> None:
    """Refuses a document that is not itself a valid draft 2020-12 schema."""
    try:
        AtlasValidator.check_schema(schema)
    except SchemaError as e:
        raise ValueError(f"the atlas JSON Schema is not a valid draft 2020-12 schema ({e.message}); regenerate it (npm run schema:atlas)") from None


def validate(schema: Dict[str, Any], value: Any, root: str = "$") -> List[SchemaProblem]:
    """Every problem of `value`, each named by its JSON path (`atlas.http.url`) and sorted by it."""
    problems: List[SchemaProblem] = []
    for error in AtlasValidator(schema).iter_errors(value):
        problems.extend(_problems_of(error, root))
    return sorted(set(problems), key=lambda p: p.path)


def _problems_of(error: ValidationError, root: str) -> List[SchemaProblem]:
    at = root + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in error.absolute_path)
    instance = error.instance
    if error.validator == "required":
        return [SchemaProblem(f"{at}.{k}", "required but missing: add it") for k in error.validator_value if k not in instance]
    if error.validator == "additionalProperties" and error.validator_value is False:
        known = error.schema.get("properties", {})
        return [SchemaProblem(f"{at}.{k}", "unexpected key (not in the contract): remove it") for k in instance if k not in known]
    if error.validator == "type":
        return [SchemaProblem(at, f"expected {' or '.join([error.validator_value] if isinstance(error.validator_value, str) else error.validator_value)}, got {describe(instance)}")]
    if error.validator in ("const", "enum"):
        expected = [error.validator_value] if error.validator == "const" else error.validator_value
        return [SchemaProblem(at, f"expected {' or '.join(json.dumps(e) for e in expected)}, got {describe(instance)}")]
    return [SchemaProblem(at, error.message)]


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 80 else value[:77] + "...")
    return f"number {value}"
