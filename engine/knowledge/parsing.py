"""Documents to sections: plain text, Markdown, HTML and PDF, headings kept for citations.

Every function here is blocking (PDF parsing especially): the service calls them in its
executor, never in the event loop.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import PurePath
from typing import Final

from engine.knowledge.errors import DocumentError
from engine.knowledge.types import ParsedDocument, Section

MIME_TYPES: Final = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
}

_BLANK_LINES: Final = re.compile(r"\n\s*\n+")
_SPACES: Final = re.compile(r"[ \t\f\v\r]+")


def mime_type_of(path: str) -> str | None:
    """The MIME type a file is parsed as, by its suffix; None when unsupported."""
    return MIME_TYPES.get(PurePath(path).suffix.lower())


def _decode(data: bytes) -> str:
    # BOM-aware UTF-8 first; a stray byte in an old text file should not reject the whole file.
    return data.decode("utf-8-sig", errors="replace")


def _normalize(text: str) -> str:
    """Collapses runs of spaces in each line and of blank lines; paragraphs stay apart."""
    # PostgreSQL text cannot hold NUL, which PDFs and binary-ish files do contain.
    text = text.replace("\r\n", "\n").replace("\xa0", " ").replace("\x00", "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_LIST_ITEM: Final = re.compile(r"^([-*+•]|\d+[.)]|>|\|)\s")


def _unwrap(text: str) -> str:
    """Joins hard-wrapped lines of a paragraph with spaces; list items keep their own lines."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines: list[str] = []
        for line in paragraph.split("\n"):
            if lines and not _LIST_ITEM.match(line):
                lines[-1] = f"{lines[-1]} {line}"
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _stem_title(path: str) -> str:
    stem = PurePath(path).stem.replace("_", " ").replace("-", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else path


# ---- plain text --------------------------------------------------------------------------


def parse_text(data: bytes, path: str) -> ParsedDocument:
    """Plain text: one section; a short first line followed by a blank line is the title."""
    text = _unwrap(_normalize(_decode(data)))
    title = _stem_title(path)
    first, sep, rest = text.partition("\n\n")
    if sep and len(first) <= 80 and "\n" not in first and not first.endswith((".", ":", ";", ",")):
        title, text = first, rest
    return ParsedDocument(title=title, mime_type="text/plain", sections=(Section(text=text),) if text else ())


# ---- Markdown ----------------------------------------------------------------------------

_ATX: Final = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT: Final = re.compile(r"^(=+|-+)\s*$")
_FENCE: Final = re.compile(r"^(```|~~~)")
_IMAGE: Final = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK: Final = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_LINK: Final = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_LINK_DEF: Final = re.compile(r"^\s*\[[^\]]+\]:\s+\S+.*$")
_EMPHASIS: Final = re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1")
_TAG: Final = re.compile(r"<[^>\n]+>")
_THEMATIC_BREAK: Final = re.compile(r"^ {0,3}([-*_])( *\1){2,} *$")
_TABLE_RULE: Final = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def _inline_markdown(line: str) -> str:
    line = _IMAGE.sub(r"\1", line)
    line = _LINK.sub(r"\1", line)
    line = _REF_LINK.sub(r"\1", line)
    line = _TAG.sub("", line)
    # Emphasis nests (**_x_**): strip until nothing changes.
    while True:
        stripped = _EMPHASIS.sub(r"\2", line)
        if stripped == line:
            return line
        line = stripped


class _SectionBuilder:
    """Collects lines into sections, starting a new one at each heading."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.headings: list[tuple[int, str]] = []
        self._lines: list[str] = []

    def heading(self, level: int, text: str) -> None:
        self.flush()
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.headings.append((level, text))

    def line(self, text: str) -> None:
        self._lines.append(text)

    def continue_line(self, text: str) -> None:
        """Adds text to the paragraph's last line (a hard-wrapped line), or starts a line."""
        if self._lines and self._lines[-1].strip() and text.strip() and not _LIST_ITEM.match(text.strip()):
            self._lines[-1] = f"{self._lines[-1].rstrip()} {text.strip()}"
        else:
            self._lines.append(text)

    def take_back(self) -> None:
        """Drops the last line (a setext heading's text, seen only when its underline comes)."""
        if self._lines:
            self._lines.pop()

    def flush(self) -> None:
        text = _normalize("\n".join(self._lines))
        self._lines = []
        if text:
            self.sections.append(Section(text=text, headings=tuple(h for _, h in self.headings)))


def parse_markdown(data: bytes, path: str) -> ParsedDocument:
    """Markdown: ATX and setext headings start sections; inline markup and link targets go."""
    builder = _SectionBuilder()
    title: str | None = None
    in_fence = False
    previous = ""
    for raw in _decode(data).replace("\r\n", "\n").split("\n"):
        if _FENCE.match(raw.strip()):
            in_fence = not in_fence
            builder.line("")
            continue
        if in_fence:
            builder.line(raw)  # code stays as it is: users search for identifiers
            previous = ""
            continue
        atx = _ATX.match(raw)
        setext = _SETEXT.match(raw) if previous.strip() and not raw.startswith(" ") else None
        if atx:
            level, text = len(atx.group(1)), _inline_markdown(atx.group(2))
        elif setext and "|" not in previous:
            # The previous line was the heading's text: take it back out of the body.
            builder.take_back()
            level, text = (1 if raw.strip().startswith("=") else 2), _inline_markdown(previous.strip())
        else:
            if _LINK_DEF.match(raw) or _TABLE_RULE.match(raw.strip()) or _THEMATIC_BREAK.match(raw):
                previous = ""
                continue
            line = _inline_markdown(raw)
            builder.continue_line(line)
            previous = line
            continue
        if title is None and level == 1:
            title = text
        builder.heading(level, text)
        previous = ""
    builder.flush()
    return ParsedDocument(title=title or _stem_title(path), mime_type="text/markdown", sections=tuple(builder.sections))


# ---- HTML --------------------------------------------------------------------------------

_SKIP: Final = frozenset(
    {"script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "nav", "footer", "head"}
)
_VOID: Final = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_BLOCK: Final = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "aside",
        "header",
        "blockquote",
        "pre",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "tr",
        "figure",
        "figcaption",
        "details",
        "summary",
        "address",
        "br",
        "hr",
        "form",
        "fieldset",
        "body",
    }
)
_HEADINGS: Final = {f"h{n}": n for n in range(1, 7)}


class _HtmlText(HTMLParser):
    """Visible text by block, headings as section starts; scripts, styles, nav and footer dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = _SectionBuilder()
        self.title: str | None = None
        self.first_h1: str | None = None
        self._skip_depth = 0
        self._in_title = False
        self._heading: tuple[int, list[str]] | None = None
        self._title_parts: list[str] = []
        self._buffer: list[str] = []
        self._pre = 0

    def _break(self) -> None:
        if self._buffer:
            self.builder.line("".join(self._buffer))
            self.builder.line("")
            self._buffer = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if self._skip_depth or tag in _SKIP:
            if tag not in _VOID:
                self._skip_depth += 1
            return
        if tag in _HEADINGS:
            self._break()
            self._heading = (_HEADINGS[tag], [])
        elif tag in _BLOCK:
            self._break()
        if tag == "pre":
            self._pre += 1
        if tag in ("td", "th"):
            self._buffer.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._skip_depth and tag in _BLOCK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            self.title = " ".join("".join(self._title_parts).split()) or None
        if self._skip_depth:
            if tag in _SKIP or tag not in _VOID:
                self._skip_depth -= 1
            return
        if tag in _HEADINGS and self._heading is not None:
            level, parts = self._heading
            self._heading = None
            text = " ".join("".join(parts).split())
            if text:
                if level == 1 and self.first_h1 is None:
                    self.first_h1 = text
                self.builder.heading(level, text)
        elif tag in _BLOCK:
            self._break()
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title_parts.append(data)
            return
        if self._skip_depth:
            return
        if self._heading is not None:
            self._heading[1].append(data)
        elif self._pre:
            self._buffer.append(data)
        else:
            # Source newlines inside a paragraph are just spaces to a reader.
            self._buffer.append(data.replace("\n", " "))

    def close(self) -> None:
        super().close()
        self._break()
        self.builder.flush()


def parse_html(data: bytes, path: str) -> ParsedDocument:
    """HTML: visible text by block, h1-h6 as headings, <title> (else the first h1) as title."""
    parser = _HtmlText()
    parser.feed(_decode(data))
    parser.close()
    title = parser.title or parser.first_h1 or _stem_title(path)
    if parser.first_h1 and title.startswith(parser.first_h1):
        title = parser.first_h1  # "Shipping | Shop name": the page's own heading, without the site
    return ParsedDocument(title=title, mime_type="text/html", sections=tuple(parser.builder.sections))


# ---- PDF ---------------------------------------------------------------------------------


def _outline_pages(reader: object) -> list[tuple[int, int, str]]:
    """(page index, depth, title) of the PDF's bookmarks, in page order."""
    from pypdf import PdfReader
    from pypdf.generic import Destination

    assert isinstance(reader, PdfReader)
    found: list[tuple[int, int, str]] = []

    def walk(items: list[object], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            elif isinstance(item, Destination) and item.title:
                page = reader.get_destination_page_number(item)
                if page is not None and page >= 0:
                    found.append((page, depth, str(item.title).strip()))

    try:
        walk(list(reader.outline), 0)
    except Exception:  # noqa: BLE001 - a broken outline costs headings, not the document
        return []
    return sorted(found, key=lambda entry: entry[0])


def parse_pdf(data: bytes, path: str) -> ParsedDocument:
    """PDF: one section per page (pages are what citations point at), bookmarks as headings."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(path, "the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = reader.metadata.title if reader.metadata is not None else None
    except PdfReadError as exc:
        raise DocumentError(path, f"not a readable PDF: {exc}") from exc
    outline = _outline_pages(reader)
    sections: list[Section] = []
    path_by_depth: list[str] = []
    cursor = 0
    for index, raw in enumerate(pages):
        while cursor < len(outline) and outline[cursor][0] <= index:
            _, depth, heading = outline[cursor]
            path_by_depth = [*path_by_depth[:depth], heading]
            cursor += 1
        text = _normalize(raw)
        if path_by_depth and text.startswith(path_by_depth[-1] + "\n"):
            text = text[len(path_by_depth[-1]) + 1 :]  # the heading is kept as the heading path
        text = _unwrap(text)
        if text:
            sections.append(Section(text=text, headings=tuple(path_by_depth), page=index + 1))
    title = (meta_title or "").strip() or _stem_title(path)
    return ParsedDocument(title=title, mime_type="application/pdf", sections=tuple(sections))


_PARSERS: Final[dict[str, Callable[[bytes, str], ParsedDocument]]] = {
    "text/plain": parse_text,
    "text/markdown": parse_markdown,
    "text/html": parse_html,
    "application/pdf": parse_pdf,
}


def parse_document(data: bytes, path: str, mime_type: str | None = None) -> ParsedDocument:
    """Parses by MIME type (default: by suffix); raises DocumentError when unsupported or empty."""
    kind = mime_type or mime_type_of(path)
    if kind is None or kind not in _PARSERS:
        supported = ", ".join(sorted(MIME_TYPES))
        raise DocumentError(path, f"unsupported document type (supported: {supported})")
    parsed = _PARSERS[kind](data, path)
    if not parsed.sections:
        raise DocumentError(
            path, "no text found" + (" (a scanned PDF needs OCR first)" if kind == "application/pdf" else "")
        )
    return parsed
