"""The JSON Schema subset, including the places where Python and ECMA-262 semantics differ."""

import pytest

from inner_universe_atlas.schema import UnsupportedSchemaError, ecma_pattern, validate


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
        ({"pattern": "^a$"}, "a\n", False),
        ({"pattern": "^\\d+$"}, "\u0661\u0662", False),
        ({"pattern": "^\\d+$"}, "12", True),
        ({"pattern": "^[\\d.]+$"}, "1.2", True),
        ({"pattern": "^\\w+$"}, "\u00e9", False),
        ({"pattern": "^(http|https):\\/\\/[^\\s/]+(\\/\\S*)?$"}, "https://h:1/x", True),
        ({"pattern": "^(http|https):\\/\\/[^\\s/]+(\\/\\S*)?$"}, "https://h 1", False),
        ({"pattern": "b"}, "abc", True),
        ({"items": {"type": "string"}}, ["a", 1], False),
        ({"type": "object", "required": ["a"]}, {}, False),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"b": 1}, False),
        ({"type": "object", "additionalProperties": {"type": "string"}}, {"b": 1}, False),
        ({"type": "object", "additionalProperties": {"type": "string"}}, {"b": "x"}, True),
    ],
)
def test_keyword(schema, value, ok):
    assert (validate(schema, value) == []) is ok


def test_problems_name_the_json_path():
    schema = {"type": "object", "properties": {"http": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}}}
    problems = validate(schema, {"http": {}}, "atlas")
    assert [p.path for p in problems] == ["atlas.http.url"]


@pytest.mark.parametrize("schema", [{"oneOf": []}, {"type": "object", "properties": {"a": {"format": "uri"}}}, {"type": "tuple"}])
def test_unknown_keywords_fail_loudly(schema):
    with pytest.raises(UnsupportedSchemaError):
        validate(schema, {"a": "x"})


def test_dollar_inside_a_class_is_literal():
    assert ecma_pattern("^[$]+$").search("$$")
