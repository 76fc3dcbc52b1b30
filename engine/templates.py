"""Template rendering in a sandbox: only {{ slot }} names, never attribute access or calls."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

_PLACEHOLDER: Final = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def render(template: str, values: Mapping[str, Any]) -> str:
    """Replaces {{ name }} with the value's text; unknown names render empty."""

    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(substitute, template)
