"""Parsing Markdown, HTML, text and PDF into sections, and chunking them with overlap."""

from __future__ import annotations

import pytest

from engine.knowledge.chunking import chunk_document, document_text
from engine.knowledge.errors import DocumentError
from engine.knowledge.parsing import parse_document
from engine.knowledge.types import ParsedDocument, Section
from tests.knowledge.conftest import DATA


def _parse(name: str) -> ParsedDocument:
    return parse_document((DATA / name).read_bytes(), name)


def test_markdown_headings_become_the_heading_path_and_markup_goes() -> None:
    doc = _parse("returns-policy.md")
    assert doc.title == "Returns policy"
    assert doc.mime_type == "text/markdown"
    assert [s.headings for s in doc.sections] == [
        ("Returns policy",),
        ("Returns policy", "Returning an item"),
        ("Returns policy", "Refunds"),
        ("Returns policy", "Exchanges"),
        ("Returns policy", "Items we cannot take back"),
    ]
    returning = doc.sections[1].text
    # Hard-wrapped lines are joined; emphasis and link targets are gone, their text stays.
    assert "original packaging with all tags attached" in returning
    assert "open Orders in your account" in returning and "**" not in returning
    assert "See our warranty for products" in doc.sections[4].text
    assert "warranty.txt" not in doc.sections[4].text
    # List items keep a line each.
    assert "- Gas canisters and fuel bottles that have been opened\n- Personalised items" in doc.sections[4].text


def test_markdown_setext_headings_fences_and_rules() -> None:
    source = b"Guide\n=====\n\nIntro.\n\nSetup\n-----\n\n```\n# not a heading\nx = 1\n```\n\n---\n\nDone.\n"
    doc = parse_document(source, "guide.md")
    assert doc.title == "Guide"
    assert [s.headings for s in doc.sections] == [("Guide",), ("Guide", "Setup")]
    assert "# not a heading" in doc.sections[1].text
    assert "---" not in doc.sections[1].text


def test_html_keeps_visible_text_and_headings_and_drops_scripts_nav_and_footer() -> None:
    doc = _parse("shipping.html")
    assert doc.title == "Shipping & delivery"  # the page's h1, without the site name of <title>
    text = document_text(doc)
    assert "Orders placed before 2 pm Mountain Time" in text  # &nbsp; and entities decoded
    for hidden in ("tracking pixel", "font-family", "Help centre", "Privacy", "written by a script"):
        assert hidden not in text
    headings = [s.headings for s in doc.sections]
    assert ("Shipping & delivery", "International shipping", "Restricted items") in headings
    assert ("Shipping & delivery", "Tracking your order") in headings
    assert "Standard 3-5 days $6.95" in text


def test_plain_text_takes_a_short_first_line_as_title() -> None:
    doc = _parse("warranty.txt")
    assert doc.title == "Warranty"
    assert doc.sections[0].text.startswith("Every tent, backpack and sleeping bag")
    untitled = parse_document(b"Just one sentence that is the whole note.", "note_to-self.txt")
    assert untitled.title == "Note to self"


def test_nul_characters_are_dropped() -> None:
    # PostgreSQL text cannot hold NUL; extracted PDF text and odd files do contain it.
    doc = parse_document(b"Notes\n\nab\x00c and d\x00", "notes.txt")
    assert doc.sections[0].text == "abc and d"


def test_pdf_pages_bookmarks_and_metadata_title() -> None:
    doc = _parse("care-guide.pdf")
    assert doc.title == "Product care guide"
    assert doc.mime_type == "application/pdf"
    assert [(s.page, s.headings) for s in doc.sections] == [
        (1, ("Caring for your tent",)),
        (2, ("Caring for your sleeping bag",)),
        (3, ("Caring for your boots",)),
    ]
    assert "Never pack a tent away wet." in doc.sections[0].text
    assert not doc.sections[0].text.startswith("Caring for your tent")


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("slides.pptx", b"PK..", "unsupported document type"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
        ("empty.md", b"   \n\n", "no text found"),
    ],
)
def test_unusable_documents_are_refused_by_name(name: str, data: bytes, problem: str) -> None:
    with pytest.raises(DocumentError, match=problem) as caught:
        parse_document(data, name)
    assert caught.value.path == name


def _long_document() -> ParsedDocument:
    paragraphs = [" ".join(f"Paragraph {p} sentence {s} has nine words in it." for s in range(5)) for p in range(12)]
    return ParsedDocument(
        title="Long",
        mime_type="text/plain",
        sections=(
            Section(text="\n\n".join(paragraphs), headings=("Long", "Body")),
            Section(text="A short closing section.", headings=("Long", "End")),
        ),
    )


def test_chunks_overlap_respect_sections_and_point_into_the_text() -> None:
    doc = _long_document()
    text = document_text(doc)
    chunks = chunk_document(doc, size=100, overlap=20)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.words == len(chunk.text.split()) <= 100
    body = [c for c in chunks if c.heading == "Long › Body"]
    assert len(body) >= 5
    for before, after in zip(body, body[1:], strict=False):
        # The next chunk starts with the last sentences of the one before (<= 20 words).
        assert after.start < before.end
        assert 0 < len(text[after.start : before.end].split()) <= 20
    # A chunk never spans two sections.
    assert chunks[-1].heading == "Long › End" and chunks[-1].text == "A short closing section."


def test_chunks_prefer_paragraph_ends_once_mostly_full() -> None:
    chunks = chunk_document(_long_document(), size=100, overlap=0)
    body = [c for c in chunks if c.heading == "Long › Body"]
    # 45-word paragraphs: two fill 90 of 100 words, so each chunk ends where a paragraph ends
    # rather than taking two sentences of the third.
    assert len(body) == 6
    assert all(c.words == 90 and c.text.endswith("sentence 4 has nine words in it.") for c in body)


def test_a_sentence_longer_than_a_chunk_is_cut_in_windows() -> None:
    words = " ".join(f"w{i}" for i in range(450))
    doc = ParsedDocument(title="T", mime_type="text/plain", sections=(Section(text=words),))
    chunks = chunk_document(doc, size=200, overlap=40)
    assert sum(c.words for c in chunks) >= 450
    assert max(c.words for c in chunks) <= 200
    assert chunks[0].text.split()[0] == "w0" and chunks[-1].text.split()[-1] == "w449"


def test_chunk_metadata_is_what_citations_need() -> None:
    chunk = chunk_document(_parse("care-guide.pdf"))[1]
    assert chunk.metadata() == {
        "start": chunk.start,
        "end": chunk.end,
        "heading": "Caring for your sleeping bag",
        "page": 2,
    }
