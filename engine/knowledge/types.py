"""What the knowledge engine passes around: parsed documents, chunks, hits, reports, answers."""

from __future__ import annotations

from typing import Literal

import msgspec

from storage.knowledge import SearchHit

Outcome = Literal["created", "updated", "unchanged", "failed"]


class Section(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A run of text under one heading path (a page of a PDF, a part of a Markdown file)."""

    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None


class ParsedDocument(msgspec.Struct, frozen=True, kw_only=True):
    """A document reduced to its title and its sections in reading order."""

    title: str
    mime_type: str
    sections: tuple[Section, ...]


class Chunk(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A passage to embed and index, with where it sits in the document for citations."""

    ordinal: int
    text: str
    # Character offsets into the document's plain text (sections joined by a blank line).
    start: int
    end: int
    words: int
    heading: str = ""
    page: int | None = None

    def metadata(self) -> dict[str, object]:
        """The knowledge_chunks.metadata object: {"start", "end", "heading", "page"}."""
        meta: dict[str, object] = {"start": self.start, "end": self.end}
        if self.heading:
            meta["heading"] = self.heading
        if self.page is not None:
            meta["page"] = self.page
        return meta


class DocumentReport(msgspec.Struct, frozen=True, kw_only=True):
    """What ingesting one file did."""

    path: str
    outcome: Outcome
    byte_size: int = 0
    chunks: int = 0
    document_id: str | None = None
    error: str | None = None


class IngestReport(msgspec.Struct, frozen=True, kw_only=True):
    """What an ingest run did, file by file."""

    knowledge_base_id: str
    documents: tuple[DocumentReport, ...]
    seconds: float

    def count(self, outcome: Outcome) -> int:
        """How many documents ended with this outcome."""
        return sum(1 for d in self.documents if d.outcome == outcome)

    @property
    def chunks(self) -> int:
        """Chunks written in this run (unchanged documents write none)."""
        return sum(d.chunks for d in self.documents if d.outcome in ("created", "updated"))


class Citation(msgspec.Struct, frozen=True, kw_only=True):
    """Where an answer's passage comes from."""

    title: str
    uri: str | None
    heading: str = ""
    page: int | None = None
    ordinal: int = 0

    def label(self) -> str:
        """`Title (§Heading, p. 3)` as a reader sees it."""
        where = [f"§{self.heading}"] if self.heading else []
        if self.page is not None:
            where.append(f"p. {self.page}")
        return f"{self.title} ({', '.join(where)})" if where else self.title


class KnowledgeAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A reply built from the best passages without an LLM, with its citations."""

    text: str
    citations: tuple[Citation, ...]
    hits: tuple[SearchHit, ...]
