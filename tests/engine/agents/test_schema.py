"""The JSON-schema subset: what it enforces and what it refuses to accept."""

from __future__ import annotations

from typing import Any

from engine.agents.schema import check_schema, validate

WEATHER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 1},
        "units": {"type": "string", "enum": ["c", "f"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "exact": {"type": "boolean"},
        "lat": {"type": "number"},
        "note": {"type": ["string", "null"]},
    },
    "required": ["city"],
    "additionalProperties": False,
}


def test_valid_arguments_pass() -> None:
    args = {"city": "Paris", "units": "c", "days": 3, "tags": ["x"], "exact": False, "lat": 48, "note": None}
    assert validate(WEATHER, args) == []


def test_each_violation_names_its_path() -> None:
    errors = validate(WEATHER, {"units": "kelvin", "days": 0, "tags": ["a", 2, "c"], "exact": 1, "extra": 1})
    assert "$.city: required property missing" in errors
    assert "$.units: 'kelvin' is not one of ['c', 'f']" in errors
    assert "$.days: 0 is less than 1" in errors
    assert "$.tags: more than 2 items" in errors
    assert "$.tags[1]: expected string, got integer" in errors
    assert "$.exact: expected boolean, got integer" in errors
    assert "$.extra: unexpected property" in errors


def test_bool_is_not_a_number_but_whole_floats_are_integers() -> None:
    assert validate({"type": "number"}, True) == ["$: expected number, got boolean"]
    assert validate({"type": "integer"}, 3.0) == []
    assert validate({"type": "integer"}, 3.5) == ["$: expected integer, got number"]


def test_unsupported_keywords_are_refused_when_defined() -> None:
    assert check_schema(WEATHER) == []
    problems = check_schema({"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}]}}})
    assert problems == ["$.properties.a: unsupported keyword(s) ['anyOf']"]
    assert check_schema({"type": "thing"}) == ["$: unknown type 'thing'"]
    assert check_schema({"type": "string", "pattern": "("})[0].startswith("$.pattern:")
