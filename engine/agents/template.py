"""Sandboxed ``{{ name }}`` / ``{{ slots.name }}`` templates for prompts and HTTP tools.

Names are looked up only through mappings and list indices, never attributes, so a template
cannot reach Python internals whatever the data holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import msgspec

_PLACEHOLDER: Final = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}")
_WHOLE: Final = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}$")
_INDEX: Final = re.compile(r"\[(\d+)\]")
_MISSING: Final = object()


def names(template: str) -> list[str]:
    """The dotted names a template refers to."""
    return _PLACEHOLDER.findall(template)


def lookup(scope: Any, path: str) -> Any:
    """Follows a dotted path (``a.b.0.c`` or ``a.b[0].c``) through mappings and lists; None if absent."""
    value = scope
    for part in _INDEX.sub(r".\1", path).split("."):
        if part == "":
            continue
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list | tuple) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is _MISSING:
            return None
    return value


def as_text(value: Any) -> str:
    """The text a value renders as: strings as they are, None as nothing, the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


def render(template: str, scope: Mapping[str, Any], *, escape: Callable[[str], str] | None = None) -> str:
    """Replaces each placeholder with its value's text, escaped (e.g. URL-quoted) when asked."""

    def substitute(match: re.Match[str]) -> str:
        text = as_text(lookup(scope, match.group(1)))
        return escape(text) if escape else text

    return _PLACEHOLDER.sub(substitute, template)


def render_json(template: Any, scope: Mapping[str, Any]) -> Any:
    """Renders every string of a JSON template; a string that is one placeholder keeps the value's type."""
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        return lookup(scope, whole.group(1)) if whole else render(template, scope)
    if isinstance(template, Mapping):
        rendered = {key: render_json(item, scope) for key, item in template.items()}
        # An optional argument the model left out is omitted, not sent as null.
        return {
            key: value
            for key, value in rendered.items()
            if not (value is None and isinstance(template[key], str) and _WHOLE.match(template[key]))
        }
    if isinstance(template, list):
        return [render_json(item, scope) for item in template]
    return template


def json_names(template: Any) -> list[str]:
    """Every placeholder name in a JSON template."""
    if isinstance(template, str):
        return names(template)
    if isinstance(template, Mapping):
        return [name for item in template.values() for name in json_names(item)]
    if isinstance(template, list):
        return [name for item in template for name in json_names(item)]
    return []
