"""Text measured the way Telegram and Twilio count it: UTF-16 code units."""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (a character outside the BMP counts twice)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf16_prefix(text: str, limit: int) -> int:
    """How many code points of text fit in limit UTF-16 units."""
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)
