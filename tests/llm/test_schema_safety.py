"""Staff-written schemas cannot starve a worker or make it fetch anything (issue #17 §1)."""

import time

import pytest

from extraction.services.profiles import InvalidProfileSchema, profile_schema_check
from llm.schema_safety import schema_problems, schema_validator
from llm.validation import schema_errors

REDOS = "^([A-Z0-9]+-?)+$"


def obj(**properties):
    return {"type": "object", "properties": properties}


def test_a_backtracking_pattern_is_checked_in_linear_time():
    schema = obj(code={"type": "string", "pattern": REDOS})
    started = time.perf_counter()
    errors = schema_errors({"code": "A" * 30 + "!"}, schema)  # Python's re: minutes
    assert time.perf_counter() - started < 0.5
    assert errors and "does not match" in errors[0]
    assert schema_errors({"code": "AB-12-C"}, schema) == []


def test_pattern_properties_and_additional_properties_use_re2():
    schema = {
        "type": "object",
        "patternProperties": {REDOS: {"type": "integer"}},
        "additionalProperties": False,
    }
    started = time.perf_counter()
    errors = schema_errors({"A" * 30 + "!": 1, "OK-1": "x"}, schema)
    assert time.perf_counter() - started < 0.5
    assert any("Additional properties" in e for e in errors)
    assert any("is not of type 'integer'" in e for e in errors)


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        (obj(a={"type": "string", "pattern": r"(a)\1"}), "not supported"),
        (obj(a={"type": "string", "pattern": r"(?=x)y"}), "not supported"),
        ({"type": "object", "patternProperties": {r"(?<!a)b": {}}}, "not supported"),
        (obj(a={"$ref": "https://example.com/schema.json"}), "not local"),
        (obj(a={"$ref": "other.json#/x"}), "not local"),
        (obj(a={"$dynamicRef": "http://10.0.0.1/x"}), "not local"),
        ({"$ref": "#", "type": "object"}, "recursive"),
        (obj(child={"$ref": "#"}), "recursive"),
        (
            {
                "type": "object",
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"items": {"$ref": "#/$defs/a"}}},
                "properties": {"x": {"$ref": "#/$defs/a"}},
            },
            "recursive",
        ),
        (obj(a={"$ref": "#/$defs/missing"}), "points to nothing"),
        (obj(a={"$id": "https://evil.example/", "type": "string"}), "$id"),
    ],
)
def test_unsafe_schemas_are_refused_at_save(schema, words):
    problems = schema_problems(schema)
    assert problems and words in problems[0][1], problems
    with pytest.raises(InvalidProfileSchema, match="Unsafe JSON Schema"):
        profile_schema_check(schema=schema)


def test_safe_schemas_pass():
    shared = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    schema = {
        "type": "object",
        "$defs": {"date": shared, "line": obj(d={"$ref": "#/$defs/date"})},
        "properties": {
            "issued": {"$ref": "#/$defs/date"},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}},
            "tags": {"type": "object", "patternProperties": {"^[a-z]+$": {"type": "string"}}},
        },
    }
    assert schema_problems(schema) == []
    profile_schema_check(schema=schema)
    assert schema_errors({"issued": "2026-11-30", "lines": [{"d": "2026-01-01"}]}, schema) == []
    assert schema_errors({"issued": "30/11/2026"}, schema)


def test_a_diamond_of_references_is_checked_quickly():
    defs = {f"d{i}": {"anyOf": [{"$ref": f"#/$defs/d{i + 1}"}] * 2} for i in range(40)}
    defs["d40"] = {"type": "string"}
    schema = {"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/d0"}}}
    started = time.perf_counter()
    assert schema_problems(schema) == []
    assert time.perf_counter() - started < 1


def test_deeply_nested_schema_is_refused_not_a_crash():
    schema: dict = {"type": "string"}
    for _ in range(5000):
        schema = {"type": "object", "properties": {"a": schema}}
    with pytest.raises(InvalidProfileSchema):
        profile_schema_check(schema=schema)


def test_validators_never_retrieve_remote_references():
    validator = schema_validator(obj(a={"$ref": "http://127.0.0.1:9/never.json"}))
    errors = schema_errors({"a": 1}, obj(a={"$ref": "http://127.0.0.1:9/never.json"}))
    assert len(errors) == 1 and "cannot be applied safely" in errors[0]
    with pytest.raises(Exception):  # noqa: B017, PT011 - referencing's Unresolvable, wrapped
        list(validator.iter_errors({"a": 1}))
