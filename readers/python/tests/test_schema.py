"""Validation through jsonschema, including the places where Python's `re` and ECMA-262 differ."""

import pytest

from inner_universe_atlas.schema import check_schema, validate


@pytest.mark.parametrize(
    "schema,value,ok",
    [
        ({"type": "number"}, 1, True),
        ({"type": "number"}, 1.5, True),
        ({"type": "number"}, True, False),
        ({"type": "integer"}, 2.0, True),
        ({"type": "integer"}, 2.5, False),
        ({"type": "string"}, 1, False),
        ({"type": "boolean"}, 0, False),
        ({"type": "object"}, [], False),
        ({"type": "array"}, {}, False),
        ({"type": "null"}, None, True),
        ({"const": 1}, True, False),
        ({"const": 1}, 1.0, True),
        ({"const": "1"}, 1, False),
        ({"enum": ["local", "aws"]}, "aws", True),
        ({"enum": ["local", "aws"]}, "gcp", False),
        ({"enum": [0]}, False, False),
        ({"minLength": 2}, "é", False),
        ({"maxLength": 1}, "é", True),
        ({"minimum": 1}, 0, False),
        ({"maximum": 1}, 2, False),
        # ECMA-262 semantics (regress), not Python's re:
        ({"pattern": "^a$"}, "a\n", False),
        ({"pattern": "^\\d+$"}, "\u0661\u0662", False),
        ({"pattern": "^\\d+$"}, "12", True),
        ({"pattern": "^[\\d.]+$"}, "1.2", True),
        ({"pattern": "^\\w+$"}, "\u00e9", False),
        ({"pattern": "^[$]+$"}, "$$", True),
        ({"pattern": "^(http|https):\\/\\/[^\\s/]+(\\/\\S*)?$"}, "https://h:1/x", True),
        ({"pattern": "^(http|https):\\/\\/[^\\s/]+(\\/\\S*)?$"}, "https://h 1", False),
        ({"pattern": "b"}, "abc", True),
        ({"items": {"type": "string"}}, ["a", 1], False),
        ({"type": "object", "required": ["a"]}, {}, False),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"b": 1}, False),
        ({"type": "object", "additionalProperties": {"type": "string"}}, {"b": 1}, False),
        ({"type": "object", "additionalProperties": {"type": "string"}}, {"b": "x"}, True),
        # A full draft 2020-12 validator: keywords the contract does not use yet work too.
        ({"oneOf": [{"type": "string"}, {"type": "number"}]}, "x", True),
        ({"not": {"pattern": "token"}}, "a-token", False),
    ],
)
def test_keyword(schema, value, ok):
    assert (validate(schema, value) == []) is ok


def test_problems_name_the_json_path_and_the_fix():
    schema = {
        "type": "object",
        "properties": {"http": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"], "additionalProperties": False}},
    }
    problems = validate(schema, {"http": {"adminUrl": "x"}}, "atlas")
    assert [(p.path, p.message) for p in problems] == [
        ("atlas.http.adminUrl", "unexpected key (not in the contract): remove it"),
        ("atlas.http.url", "required but missing: add it"),
    ]


def test_array_items_are_indexed():
    assert [p.path for p in validate({"items": {"type": "string"}}, ["a", 1], "atlas")] == ["atlas[1]"]


def test_an_invalid_schema_is_refused():
    with pytest.raises(ValueError, match="not a valid draft 2020-12 schema"):
        check_schema({"type": "tuple"})
