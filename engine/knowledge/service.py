"""Ingesting documents into a bot's knowledge base, searching it, and answering from it."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Final, final

from engine.agents.ports import Passage
from engine.embeddings import Embedder, embedder_model
from engine.errors import EmbedderError
from engine.knowledge.chunking import chunk_document
from engine.knowledge.errors import DocumentError, KnowledgeBaseNotFound
from engine.knowledge.parsing import parse_document
from engine.knowledge.types import Chunk, Citation, DocumentReport, IngestReport, KnowledgeAnswer, ParsedDocument
from runtime.logging import get_logger
from storage.knowledge import ChunkRow, DocumentWrite, PgKnowledgeStore, SearchHit

log = get_logger(__name__)

Progress = Callable[[DocumentReport], None]
EMBED_BATCH: Final = 64  # texts per embed() call: bounded requests, and progress between them
ANSWER_CHARS: Final = 700
_SENTENCE_END: Final = re.compile(r"[.!?][\"')\]]*\s")


def _read(path: Path) -> tuple[bytes, bytes, str]:
    """The file's bytes, their sha256 and the file's URI (the document's identity)."""
    data = path.read_bytes()
    return data, hashlib.sha256(data).digest(), path.resolve().as_uri()


def _parse_and_chunk(data: bytes, path: str, size: int, overlap: int) -> tuple[ParsedDocument, list[Chunk]]:
    parsed = parse_document(data, path)
    return parsed, chunk_document(parsed, size=size, overlap=overlap)


def _trim(text: str, limit: int) -> str:
    """The text cut at the last sentence end before `limit` characters (else at a word)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    ends = list(_SENTENCE_END.finditer(head + " "))
    if ends and ends[-1].end() > limit // 2:
        return head[: ends[-1].end()].rstrip()
    return head.rsplit(" ", 1)[0].rstrip(" ,;:") + " …"


def _section(hit: SearchHit) -> str:
    """The heading path without the document's own title at its head."""
    parts = hit.heading.split(" › ") if hit.heading else []
    if parts and parts[0] == hit.title:
        parts = parts[1:]
    return " › ".join(parts)


@final
class KnowledgeService:
    """Parses, chunks, embeds and stores documents; retrieves passages with citations.

    Blocking work (reading, PDF parsing, chunking) runs in a small executor of its own; the
    embedder runs its model in its own thread. Without an embedder, search is full-text only.
    """

    def __init__(
        self,
        store: PgKnowledgeStore,
        embedder: Embedder | None,
        *,
        chunk_words: int = 200,
        chunk_overlap: int = 40,
        min_similarity: float = 0.35,
        executor: Executor | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._model = embedder_model(embedder) if embedder is not None else None
        self._chunk_words = chunk_words
        self._chunk_overlap = chunk_overlap
        # all-MiniLM-L6-v2 puts a question and the passage that answers it around 0.4-0.7 and
        # unrelated text below 0.2; 0.35 keeps the first and refuses the second.
        self.min_similarity = min_similarity
        self._executor = executor or ThreadPoolExecutor(max_workers=2, thread_name_prefix="knowledge")

    @property
    def embedding_model(self) -> str | None:
        """The embedder's model, or None for full-text only."""
        return self._model

    # ---- ingestion ---------------------------------------------------------------------

    async def ingest(
        self,
        org_id: str,
        bot_id: str,
        paths: Sequence[str | Path],
        progress: Progress | None = None,
        *,
        knowledge_base: str | None = None,
    ) -> IngestReport:
        """Ingests files into the bot's knowledge base; unchanged files are skipped without writes."""
        started = time.perf_counter()
        kb = await self._store.ensure_knowledge_base(org_id, bot_id, knowledge_base)
        if kb is None:
            raise KnowledgeBaseNotFound(bot_id, "no such bot in this organization")
        reports = []
        for path in paths:
            report = await self._ingest_one(org_id, kb.id, Path(path))
            reports.append(report)
            if progress is not None:
                progress(report)
        return IngestReport(knowledge_base_id=kb.id, documents=tuple(reports), seconds=time.perf_counter() - started)

    async def _ingest_one(self, org_id: str, kb_id: str, path: Path) -> DocumentReport:
        loop = asyncio.get_running_loop()
        name = str(path)
        try:
            data, sha, uri = await loop.run_in_executor(self._executor, _read, path)
        except OSError as exc:
            return DocumentReport(path=name, outcome="failed", error=f"cannot read: {exc.strerror or exc}")
        state = await self._store.document_state(org_id, kb_id, uri)
        if (
            state is not None
            and state.content_sha256 == sha
            and state.status == "ready"
            and state.embedding_model == self._model
        ):
            return DocumentReport(path=name, outcome="unchanged", byte_size=len(data), document_id=state.id)
        try:
            parsed, chunks = await loop.run_in_executor(
                self._executor, _parse_and_chunk, data, name, self._chunk_words, self._chunk_overlap
            )
            vectors = await self._embed_chunks(parsed, chunks)
        except (DocumentError, EmbedderError) as exc:
            log.warning("knowledge.ingest_failed", path=name, error=str(exc))
            return DocumentReport(path=name, outcome="failed", byte_size=len(data), error=str(exc))
        rows = [
            ChunkRow(
                ordinal=c.ordinal,
                content=c.text,
                words=c.words,
                embedding=vectors[c.ordinal] if vectors is not None else None,
                metadata=c.metadata(),
            )
            for c in chunks
        ]
        document = DocumentWrite(
            uri=uri,
            title=parsed.title,
            mime_type=parsed.mime_type,
            content_sha256=sha,
            byte_size=len(data),
            embedding_model=self._model,
            metadata={"path": name, "sections": len(parsed.sections)},
        )
        result = await self._store.write_document(org_id, kb_id, document, rows)
        log.info("knowledge.ingested", path=name, outcome=result.outcome, chunks=result.chunks)
        return DocumentReport(
            path=name, outcome=result.outcome, byte_size=len(data), chunks=result.chunks, document_id=result.document_id
        )

    async def _embed_chunks(self, parsed: ParsedDocument, chunks: list[Chunk]) -> list[list[float]] | None:
        if self._embedder is None:
            return None
        # The heading path (or the title) goes with the text: a chunk that says "30 days" is
        # found for "returns" when its heading says Returns.
        texts = [f"{c.heading or parsed.title}\n{c.text}" for c in chunks]
        vectors: list[list[float]] = []
        for i in range(0, len(texts), EMBED_BATCH):
            batch = await self._embedder.embed(texts[i : i + EMBED_BATCH])
            if len(batch) != len(texts[i : i + EMBED_BATCH]):
                raise EmbedderError(
                    self._model or "embedder",
                    f"returned {len(batch)} vectors for {len(texts[i : i + EMBED_BATCH])} texts",
                )
            vectors.extend(batch)
        return vectors

    # ---- retrieval ---------------------------------------------------------------------

    async def hits(
        self, query: str, *, org_id: str, bot_id: str, limit: int, knowledge_base: str | None = None
    ) -> list[SearchHit]:
        """The bot's best chunks with fused scores, similarities and positions."""
        query = query.strip()
        if not query or limit < 1:
            return []
        vector: list[float] | None = None
        if self._embedder is not None:
            try:
                vector = (await self._embedder.embed([query]))[0]
            except EmbedderError as exc:
                # The full-text half still answers; a down endpoint must not silence the bot.
                log.warning("knowledge.embed_failed", error=str(exc))
        return await self._store.search(
            org_id,
            bot_id,
            text=query,
            vector=vector,
            embedding_model=self._model,
            limit=limit,
            knowledge_base=knowledge_base,
        )

    async def search(
        self, query: str, *, org_id: str, bot_id: str, limit: int, knowledge_base: str | None = None
    ) -> Sequence[Passage]:
        """Passages for the agents' knowledge tool (the KnowledgeSearch port)."""
        found = await self.hits(query, org_id=org_id, bot_id=bot_id, limit=limit, knowledge_base=knowledge_base)
        return [
            Passage(
                text=hit.text,
                document=f"{hit.title} (§{_section(hit)})" if _section(hit) else hit.title,
                position=hit.ordinal,
                score=hit.score,
                url=hit.uri,
            )
            for hit in found
        ]

    def relevant(self, hit: SearchHit) -> bool:
        """Whether a hit answers the query well enough to be said without an LLM."""
        if hit.similarity is None:
            # Full text only: the fused list holds nothing but matches.
            return hit.text_rank is not None
        if hit.similarity >= self.min_similarity:
            return True
        # Words of the question found in the passage vouch for a weaker semantic match.
        return hit.text_rank is not None and hit.similarity >= self.min_similarity - 0.1

    async def answer(
        self,
        query: str,
        *,
        org_id: str,
        bot_id: str,
        knowledge_base: str | None = None,
        max_passages: int = 1,
        max_chars: int = ANSWER_CHARS,
    ) -> KnowledgeAnswer | None:
        """The best passage(s) as a chat reply with their sources; None when nothing is relevant."""
        found = await self.hits(
            query, org_id=org_id, bot_id=bot_id, limit=max(5, max_passages), knowledge_base=knowledge_base
        )
        relevant = [hit for hit in found if self.relevant(hit)]
        if not relevant:
            return None
        best = relevant[0]
        # More passages only when they are nearly as close as the best one: "the tent page and
        # also the boots page" is noise. Full-text ranks carry no such measure: the best alone.
        chosen = [best] + [
            hit
            for hit in relevant[1:]
            if hit.similarity is not None and best.similarity is not None and hit.similarity >= best.similarity - 0.2
        ][: max_passages - 1]
        citations = tuple(
            Citation(title=h.title, uri=h.uri, heading=_section(h), page=h.page, ordinal=h.ordinal) for h in chosen
        )
        budget = max(max_chars // len(chosen), 80)
        body = "\n\n".join(_trim(h.text, budget) for h in chosen)
        labels = list(dict.fromkeys(c.label() for c in citations))
        sources = ("Source: " if len(labels) == 1 else "Sources: ") + "; ".join(labels)
        return KnowledgeAnswer(text=f"{body}\n\n{sources}", citations=citations, hits=tuple(chosen))

    async def answer_texts(
        self, query: str, *, org_id: str, bot_id: str, limit: int, knowledge_base: str | None = None
    ) -> Sequence[str]:
        """The knowledge node's reply: one message with up to `limit` relevant passages and sources."""
        answer = await self.answer(
            query, org_id=org_id, bot_id=bot_id, knowledge_base=knowledge_base, max_passages=max(limit, 1)
        )
        return [answer.text] if answer is not None else []

    def close(self) -> None:
        """Stops the parsing threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)
