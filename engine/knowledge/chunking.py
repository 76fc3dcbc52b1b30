"""Sections to overlapping chunks of about `size` words, cut at paragraph and sentence ends.

Words stand in for tokens (all-MiniLM-L6-v2 reads 256 word pieces, about 200 English words).
A chunk never spans two sections, so its heading path is the one it is cited with; inside a
section it prefers to end at a paragraph once it is three quarters full, and the next chunk
repeats the last sentences (up to `overlap` words) so an answer cut in two is found whole once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final, NamedTuple

from engine.knowledge.types import Chunk, ParsedDocument

SECTION_SEPARATOR: Final = "\n\n"
# A sentence ends at . ! ? (optionally closed by a quote or bracket) followed by space; list
# items and other single-newline lines are units of their own.
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])([\"')\]]*)\s+|\n")
_WORD: Final = re.compile(r"\S+")


class _Unit(NamedTuple):
    start: int
    end: int
    words: int
    paragraph_start: bool


def document_text(doc: ParsedDocument) -> str:
    """The document's plain text: sections joined by a blank line (what chunk offsets index)."""
    return SECTION_SEPARATOR.join(section.text for section in doc.sections)


def _split_long(text: str, offset: int, size: int, paragraph_start: bool) -> Iterator[_Unit]:
    """A sentence longer than a chunk, in windows of `size` words."""
    words = list(_WORD.finditer(text))
    for i in range(0, len(words), size):
        window = words[i : i + size]
        yield _Unit(offset + window[0].start(), offset + window[-1].end(), len(window), paragraph_start and i == 0)


def _units(text: str, offset: int, size: int) -> Iterator[_Unit]:
    """Sentences of a section with their absolute offsets, flagged where a paragraph begins."""
    paragraph_at = 0
    for paragraph in text.split(SECTION_SEPARATOR):
        first = True
        cursor = 0
        pieces = [*_SENTENCE_END.finditer(paragraph), None]
        for match in pieces:
            # A closing quote or bracket stays with its sentence.
            end = match.start() + len(match.group(1) or "") if match is not None else len(paragraph)
            piece = paragraph[cursor:end]
            stripped = piece.strip()
            if stripped:
                start = cursor + piece.index(stripped[0])
                count = len(_WORD.findall(stripped))
                absolute = offset + paragraph_at + start
                if count > size:
                    yield from _split_long(stripped, absolute, size, first)
                else:
                    yield _Unit(absolute, absolute + len(stripped), count, first)
                first = False
            if match is not None:
                cursor = match.end()
        paragraph_at += len(paragraph) + len(SECTION_SEPARATOR)


def _tail(units: list[_Unit], overlap: int) -> list[_Unit]:
    """The last whole sentences of a chunk that fit in `overlap` words."""
    kept: list[_Unit] = []
    words = 0
    for unit in reversed(units):
        if words + unit.words > overlap:
            break
        kept.insert(0, unit)
        words += unit.words
    # Never repeat the whole chunk: that would be a duplicate, not an overlap.
    return kept if len(kept) < len(units) else kept[1:]


def _chunk(text: str, units: list[_Unit], ordinal: int, heading: str, page: int | None) -> Chunk:
    first, last = units[0], units[-1]
    return Chunk(
        ordinal=ordinal,
        text=text[first.start : last.end],
        start=first.start,
        end=last.end,
        words=sum(u.words for u in units),
        heading=heading,
        page=page,
    )


def chunk_document(doc: ParsedDocument, *, size: int = 200, overlap: int = 40) -> list[Chunk]:
    """Chunks in reading order with ordinals, offsets into document_text(), heading and page."""
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"chunk size {size} and overlap {overlap}: need size >= 1 and 0 <= overlap < size")
    text = document_text(doc)
    chunks: list[Chunk] = []
    offset = 0
    for section in doc.sections:
        heading = " › ".join(section.headings)
        current: list[_Unit] = []
        fresh = 0  # units in `current` not yet emitted in an earlier chunk
        for unit in _units(section.text, offset, size):
            words = sum(u.words for u in current)
            full = words + unit.words > size
            # Ending at a paragraph break keeps an idea whole, once the chunk is mostly full.
            paragraph_end = unit.paragraph_start and words >= size * 3 // 4
            if fresh and (full or paragraph_end):
                chunks.append(_chunk(text, current, len(chunks), heading, section.page))
                current = _tail(current, overlap)
                fresh = 0
            while current and sum(u.words for u in current) + unit.words > size:
                current.pop(0)  # an overlap that leaves no room for the new sentence shrinks
            current.append(unit)
            fresh += 1
        if fresh:
            chunks.append(_chunk(text, current, len(chunks), heading, section.page))
        offset += len(section.text) + len(SECTION_SEPARATOR)
    return chunks
