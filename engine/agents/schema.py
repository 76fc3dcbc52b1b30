"""A JSON-schema subset for tool arguments: checked when a tool is defined, enforced per call.

Supported: type (a name or a list of names), properties, required, enum, const,
additionalProperties (bool or schema), items, minimum/maximum, minLength/maxLength, pattern,
minItems/maxItems. Annotations (description, title, default, examples, format) are allowed and
not enforced. Any other keyword is refused at definition time, so nothing a tool author wrote
is silently unenforced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

TYPES: Final = frozenset({"object", "string", "number", "integer", "boolean", "array", "null"})
_VALIDATING: Final = frozenset({
    "type", "properties", "required", "enum", "const", "additionalProperties", "items",
    "minimum", "maximum", "minLength", "maxLength", "pattern", "minItems", "maxItems",
})
_ANNOTATIONS: Final = frozenset({"description", "title", "default", "examples", "format", "$comment", "$schema"})
# A model that loops on bad arguments should see a few clear problems, not hundreds.
MAX_ERRORS: Final = 10


def check_schema(schema: Any, path: str = "$") -> list[str]:
    """Returns what is wrong with a schema (empty when it is usable)."""
    if not isinstance(schema, Mapping):
        return [f"{path}: a schema must be an object"]
    problems: list[str] = []
    unknown = set(schema) - _VALIDATING - _ANNOTATIONS
    if unknown:
        problems.append(f"{path}: unsupported keyword(s) {sorted(unknown)}")
    types = schema.get("type")
    names = types if isinstance(types, list) else [types] if types is not None else []
    for name in names:
        if name not in TYPES:
            problems.append(f"{path}: unknown type {name!r}")
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        problems.append(f"{path}.properties: must be an object")
    else:
        for key, sub in properties.items():
            problems += check_schema(sub, f"{path}.properties.{key}")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        problems.append(f"{path}.required: must be a list of names")
    if "enum" in schema and not isinstance(schema["enum"], list):
        problems.append(f"{path}.enum: must be a list")
    extra = schema.get("additionalProperties", True)
    if not isinstance(extra, bool):
        problems += check_schema(extra, f"{path}.additionalProperties")
    if "items" in schema:
        problems += check_schema(schema["items"], f"{path}.items")
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except (re.error, TypeError) as exc:
            problems.append(f"{path}.pattern: {exc}")
    return problems


def validate(schema: Mapping[str, Any], value: Any) -> list[str]:
    """Returns the ways value breaks schema, each naming its JSON path (empty when valid)."""
    errors: list[str] = []
    _validate(schema, value, "$", errors)
    return errors[:MAX_ERRORS]


def _type_of(value: Any) -> str:
    # bool is an int in Python but not a number in JSON.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_matches(expected: str, actual: str, value: Any) -> bool:
    if expected == actual:
        return True
    if expected == "number" and actual == "integer":
        return True
    # 3.0 is an integer in JSON schema's eyes.
    return expected == "integer" and actual == "number" and float(value).is_integer()


def _validate(schema: Mapping[str, Any], value: Any, path: str, errors: list[str]) -> None:
    if len(errors) >= MAX_ERRORS:
        return
    actual = _type_of(value)
    if "type" in schema:
        expected = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_matches(name, actual, value) for name in expected):
            errors.append(f"{path}: expected {' or '.join(expected)}, got {actual}")
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']!r}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: must be {schema['const']!r}")
    match actual:
        case "object":
            _validate_object(schema, value, path, errors)
        case "array":
            _validate_array(schema, value, path, errors)
        case "string":
            _validate_string(schema, value, path, errors)
        case "integer" | "number":
            if "minimum" in schema and value < schema["minimum"]:
                errors.append(f"{path}: {value} is less than {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                errors.append(f"{path}: {value} is greater than {schema['maximum']}")
        case _:
            pass


def _validate_object(schema: Mapping[str, Any], value: dict[str, Any], path: str, errors: list[str]) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            errors.append(f"{path}.{name}: required property missing")
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            _validate(properties[key], item, f"{path}.{key}", errors)
        elif extra is False:
            errors.append(f"{path}.{key}: unexpected property")
        elif isinstance(extra, Mapping):
            _validate(extra, item, f"{path}.{key}", errors)


def _validate_array(schema: Mapping[str, Any], value: list[Any], path: str, errors: list[str]) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(f"{path}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{path}: more than {schema['maxItems']} items")
    items = schema.get("items")
    if isinstance(items, Mapping):
        for i, item in enumerate(value):
            _validate(items, item, f"{path}[{i}]", errors)


def _validate_string(schema: Mapping[str, Any], value: str, path: str, errors: list[str]) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(f"{path}: shorter than {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{path}: longer than {schema['maxLength']} characters")
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        errors.append(f"{path}: does not match {schema['pattern']!r}")
