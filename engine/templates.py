"""Template rendering in Jinja2's sandbox: slots and filters, never Python internals.

Bot authors write templates, and bot files may come from anyone with dashboard access, so
rendering goes through SandboxedEnvironment (no `_`-prefixed attributes, no unsafe callables)
with size limits on `*` and `**`, and a failing template renders empty instead of raising.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from jinja2 import ChainableUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from runtime.logging import get_logger

log = get_logger(__name__)

MAX_OUTPUT: Final = 16_384  # characters one template may render; longer output is cut
MAX_POWER: Final = 1_000  # larger exponents would let a template spin the CPU for seconds
MAX_REPEAT: Final = 16_384  # `'a' * n` and `[x] * n` stay small
MAX_BITS: Final = 4_096  # integer results; loops of squaring would otherwise hang the event loop
MAX_RANGE: Final = 1_000
_RENDER_ERRORS: Final = (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, RecursionError)


class _Sandbox(SandboxedEnvironment):
    """The sandbox with bounded arithmetic: `*` and `**` cannot allocate or spin without limit."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int | float) and abs(right) > MAX_POWER:
                raise SecurityError("exponent too large")
            if isinstance(left, int) and isinstance(right, int) and right > 0 and left.bit_length() * right > MAX_BITS:
                raise SecurityError("power too large")
            return operator.pow(left, right)
        sequence, count = (left, right) if isinstance(left, str | list | tuple) else (right, left)
        if isinstance(sequence, str | list | tuple) and isinstance(count, int) and len(sequence) * count > MAX_REPEAT:
            raise SecurityError("repetition too large")
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_BITS:
            raise SecurityError("product too large")
        return operator.mul(left, right)


def _range(*args: int) -> range:
    """range() capped well below the sandbox's own 100,000, since a template runs in the event loop."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range longer than {MAX_RANGE}")
    return numbers


def _finalize(value: Any) -> Any:
    # A missing slot is None or undefined; both read as nothing, like the old renderer.
    # A bare callable (`{{ name.upper }}`) would print its repr, which leaks nothing useful.
    return "" if value is None or callable(value) else value


_ENV: Final = _Sandbox(autoescape=False, undefined=ChainableUndefined, finalize=_finalize, keep_trailing_newline=True)
# Helpers that only make noise in a chat template; range, dict and namespace stay.
for _name in ("lipsum", "cycler", "joiner"):
    _ENV.globals.pop(_name, None)
_ENV.globals["range"] = _range


def check(template: str) -> str | None:
    """The syntax error of a template, or None when it compiles."""
    try:
        _compiled(template)
    except TemplateError as exc:
        return str(exc)
    return None


def check_expression(expression: str) -> str | None:
    """The syntax error of a bare expression (a branch's expr), or None when it compiles."""
    try:
        _expression(expression)
    except TemplateError as exc:
        return str(exc)
    return None


# `{{ name }}`: the placeholder most replies use (`echo: {{ said }}`, `Hi {{ name }}!`).
_PLACEHOLDER: Final = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Names Jinja reads as literals or operators, never as slots.
_JINJA_WORDS: Final = frozenset(
    {"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else"}
)


@functools.lru_cache(maxsize=2048)
def _simple(template: str) -> tuple[str, ...] | None:
    """A template made only of text and `{{ name }}` placeholders, split into text (even indexes)
    and names (odd); None for anything else (filters, attributes, tags, comments)."""
    parts = tuple(_PLACEHOLDER.split(template))
    if any("{{" in text or "{%" in text or "{#" in text for text in parts[::2]):
        return None
    if any(name in _JINJA_WORDS for name in parts[1::2]):
        return None
    return parts


def _value_text(name: str, values: Mapping[str, Any]) -> str:
    # What Jinja prints for a bare name, through _finalize: a missing or None slot is "", as is
    # a callable (a global such as `range`), anything else its str().
    value = values.get(name, _ENV.globals.get(name))
    return "" if value is None or callable(value) else str(value)


def render(template: str, values: Mapping[str, Any]) -> str:
    """Renders in the sandbox; unknown names render empty, a failing template renders ""."""
    if "{" not in template:
        return template  # most texts are plain: skip Jinja entirely
    parts = _simple(template)
    if parts is not None:
        # Only text and bare names: the same output as Jinja's at a tenth of the cost (Jinja
        # builds a context, a ChainMap and a generator for every render).
        text = "".join(part if i % 2 == 0 else _value_text(part, values) for i, part in enumerate(parts))
        return text[:MAX_OUTPUT]
    try:
        text: str = _compiled(template).render(dict(values))
    except _RENDER_ERRORS as exc:
        log.warning("template.failed", error=type(exc).__name__, detail=str(exc)[:200])
        return ""
    return text[:MAX_OUTPUT]


def evaluate(expression: str, values: Mapping[str, Any]) -> Any:
    """Evaluates a bare expression such as `age >= 18` in the sandbox; None when it fails."""
    try:
        result = _expression(expression)(**values)
    except _RENDER_ERRORS as exc:
        log.warning("template.failed", error=type(exc).__name__, detail=str(exc)[:200])
        return None
    return None if isinstance(result, ChainableUndefined) else result


def render_value(template: str, values: Mapping[str, Any]) -> Any:
    """A template that is exactly one `{{ expression }}` keeps the expression's type; else text."""
    stripped = template.strip()
    if stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1:
        inner = stripped[2:-2].strip()
        if check_expression(inner) is None:
            return evaluate(inner, values)
    return render(template, values)


@functools.lru_cache(maxsize=2048)
def _compiled(template: str) -> Any:
    return _ENV.from_string(template)


@functools.lru_cache(maxsize=1024)
def _expression(expression: str) -> Callable[..., Any]:
    return _ENV.compile_expression(expression)
