"""A small JSON Schema (draft 2020-12) validator for exactly the keywords the atlas contract uses.

The TypeScript reader (readers/ts/json-schema.ts) implements the same subset; both are held to the
same sample table. Keywords outside the subset raise UnsupportedSchemaError instead of being
ignored, so a richer schema fails the tests rather than validating less than it promises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, List

ANNOTATIONS = {"$id", "$schema", "title", "description", "examples", "default", "$comment"}
KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "const",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "items",
}


@dataclass(frozen=True)
class SchemaProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class UnsupportedSchemaError(Exception):
    def __init__(self, keyword: str, at: str) -> None:
        super().__init__(
            f'the atlas JSON Schema uses "{keyword}" at {at}, which this reader does not implement; '
            "update readers/python/src/inner_universe_atlas/schema.py and readers/ts/json-schema.ts"
        )


def validate(schema: dict, value: Any, path: str = "$") -> List[SchemaProblem]:
    for key in schema:
        if key not in KEYWORDS and key not in ANNOTATIONS:
            raise UnsupportedSchemaError(key, path)
    problems: List[SchemaProblem] = []

    def fail(message: str, at: str = path) -> None:
        problems.append(SchemaProblem(at, message))

    if "type" in schema and not _has_type(value, schema["type"]):
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        fail(f"expected {' or '.join(types)}, got {describe(value)}")
        return problems
    if "const" in schema and not _equal(value, schema["const"]):
        fail(f"expected {json.dumps(schema['const'])}, got {describe(value)}")
    if "enum" in schema and not any(_equal(value, e) for e in schema["enum"]):
        fail(f"expected one of {', '.join(json.dumps(e) for e in schema['enum'])}, got {describe(value)}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            fail(f"expected at least {schema['minLength']} characters, got {len(value)}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            fail(f"expected at most {schema['maxLength']} characters, got {len(value)}")
        if "pattern" in schema and not ecma_pattern(schema["pattern"]).search(value):
            fail(f"{json.dumps(value)} does not match {schema['pattern']}")
    if _is_number(value):
        if "minimum" in schema and value < schema["minimum"]:
            fail(f"expected >= {schema['minimum']}, got {value}")
        if "maximum" in schema and value > schema["maximum"]:
            fail(f"expected <= {schema['maximum']}, got {value}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            problems.extend(validate(schema["items"], item, f"{path}[{i}]"))
    if isinstance(value, dict):
        problems.extend(_validate_object(schema, value, path))
    return problems


def _validate_object(schema: dict, value: dict, path: str) -> List[SchemaProblem]:
    problems: List[SchemaProblem] = []
    properties = schema.get("properties") or {}
    for key in schema.get("required", []):
        if key not in value:
            problems.append(SchemaProblem(f"{path}.{key}", "required but missing"))
    extra = schema.get("additionalProperties", True)
    for key, child in value.items():
        if key in properties:
            problems.extend(validate(properties[key], child, f"{path}.{key}"))
        elif extra is False:
            problems.append(SchemaProblem(f"{path}.{key}", "unexpected key (not in the contract)"))
        elif isinstance(extra, dict):
            problems.extend(validate(extra, child, f"{path}.{key}"))
    return problems


def _is_number(v: Any) -> bool:
    # bool is an int subclass in Python; JSON true is not a number.
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _has_type(value: Any, t: Any) -> bool:
    if isinstance(t, list):
        return any(_has_type(value, x) for x in t)
    if t == "string":
        return isinstance(value, str)
    if t == "number":
        return _is_number(value) and value == value and value not in (float("inf"), float("-inf"))
    if t == "integer":
        return _is_number(value) and float(value).is_integer()
    if t == "boolean":
        return isinstance(value, bool)
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "null":
        return value is None
    raise UnsupportedSchemaError(f"type: {t}", "a type keyword")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: unlike Python's ==, true is not 1 and 1 is not "1"."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


@lru_cache(maxsize=None)
def ecma_pattern(pattern: str) -> "re.Pattern[str]":
    """Compiles an ECMA-262 pattern (as JSON Schema specifies) to an equivalent Python regex.

    Differences that matter for the contract: `$` in Python also matches before a trailing
    newline (JS: only at the end), and `\\d`/`\\w` match non-ASCII digits/letters in Python.
    """
    out: List[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            n = pattern[i + 1]
            if n in "dD" + "wW":
                ascii_set = "0-9" if n in "dD" else "A-Za-z0-9_"
                if in_class:
                    if n.isupper():
                        raise UnsupportedSchemaError(f"pattern \\{n} inside a character class", pattern)
                    out.append(ascii_set)
                else:
                    out.append(f"[^{ascii_set}]" if n.isupper() else f"[{ascii_set}]")
            else:
                out.append(c + n)
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        elif c == "$" and not in_class:
            out.append(r"\Z")
            i += 1
            continue
        out.append(c)
        i += 1
    return re.compile("".join(out))


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
