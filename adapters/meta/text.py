"""Fitting text into a platform's limits: splitting long text, trimming titles, numbered options."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from runtime.events import Button

# Break at the last paragraph, then line, then word boundary in the allowed window, unless
# that would leave a chunk less than half full; then cut hard.
_BREAKS: Final = ("\n\n", "\n", " ")


def _fits(text: str, limit: int, utf8: bool) -> int:
    """How many leading characters of text fit in limit (characters, or UTF-8 bytes)."""
    if not utf8:
        return min(len(text), limit)
    # Decoding a byte-truncated prefix with "ignore" drops a partly cut last character.
    return len(text.encode()[:limit].decode("utf-8", "ignore"))


def _size(text: str, utf8: bool) -> int:
    return len(text.encode()) if utf8 else len(text)


def split_text(text: str, limit: int, *, utf8: bool = False) -> list[str]:
    """Splits text into chunks of at most limit characters (or UTF-8 bytes), at natural breaks."""
    chunks: list[str] = []
    rest = text
    while _size(rest, utf8) > limit:
        window = rest[: max(1, _fits(rest, limit, utf8))]
        cut = len(window)
        for brk in _BREAKS:
            at = window.rfind(brk)
            if at >= len(window) // 2:
                cut = at
                break
        head = rest[:cut].rstrip()
        if not head:  # only whitespace before the break: cut hard instead
            cut = len(window)
            head = rest[:cut]
        chunks.append(head)
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def truncate(text: str, limit: int) -> str:
    """text, or its first limit-1 characters and an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def numbered(text: str, buttons: Sequence[Button]) -> str:
    """Text followed by the buttons as a numbered list, for when they cannot be native buttons."""
    options = "\n".join(f"{i}. {b.title}" for i, b in enumerate(buttons, 1))
    return f"{text}\n\n{options}" if text else options
