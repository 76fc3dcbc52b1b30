"""Knowledge bases on PostgreSQL: documents replaced atomically, chunks searched hybrid.

Chunks carry an all-MiniLM-L6-v2-sized vector (HNSW, cosine) and a tsvector generated in SQL
from their content in the knowledge base's language. Search fuses both rankings in one SQL
statement (see sql/queries/knowledge/search_hybrid.sql), so one round trip returns only the
passages asked for, with what a citation needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal, final

import asyncpg
import msgspec
import numpy as np
from pgvector import Vector

from storage.queries import QUERIES
from storage.tenancy import act_for

# HNSW candidates per query. On 100k real 384-d embeddings 64 gives recall@10 0.99 against
# exact search at a query p99 under 10 ms on two cores, where pgvector's default of 40 gives
# 0.985 (docs/benchmarks.md, Knowledge). search() raises it to the candidate depth if larger.
EF_SEARCH: Final = 64
RRF_K: Final = 60  # in search_hybrid.sql; kept here for readers of the fused scores

WriteOutcome = Literal["created", "updated", "unchanged"]


class KnowledgeBaseRef(msgspec.Struct, frozen=True, kw_only=True):
    """A knowledge base a bot searches."""

    id: str
    language: str


class DocumentState(msgspec.Struct, frozen=True, kw_only=True):
    """What is stored for a document: enough to tell whether re-ingesting would change it."""

    id: str
    content_sha256: bytes
    status: str
    chunk_count: int
    embedding_model: str | None


class DocumentWrite(msgspec.Struct, frozen=True, kw_only=True):
    """A document's row as ingestion writes it."""

    uri: str
    title: str
    mime_type: str
    content_sha256: bytes
    byte_size: int
    # None: no embedder, the chunks are found by full-text search alone.
    embedding_model: str | None
    metadata: dict[str, Any] = {}


class ChunkRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A chunk to insert: its text, position and (when there is an embedder) its vector."""

    ordinal: int
    content: str
    words: int
    embedding: Sequence[float] | None
    metadata: dict[str, Any]


class WriteResult(msgspec.Struct, frozen=True, kw_only=True):
    """What writing a document did."""

    outcome: WriteOutcome
    document_id: str | None
    chunks: int


class SearchHit(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A retrieved chunk with its fused score, the ranks it was fused from, and its source."""

    chunk_id: str
    document_id: str
    text: str
    title: str
    uri: str | None
    ordinal: int
    heading: str = ""
    page: int | None = None
    # Reciprocal rank fusion: sum of 1 / (60 + rank) over the rankings the chunk appears in.
    score: float
    # Cosine similarity to the query; None when searched by full text only.
    similarity: float | None = None
    vector_rank: int | None = None
    text_rank: int | None = None


def _vector(values: Sequence[float] | None) -> Vector | None:
    # A Vector, not a list or array: inside a vector[] parameter asyncpg would take those for
    # nested arrays and hand the codec single floats.
    return None if values is None else Vector(np.asarray(values, dtype=np.float32))


@final
class PgKnowledgeStore:
    """Knowledge rows through the app pool, each call in its own transaction as its tenant."""

    def __init__(self, pool: asyncpg.Pool, *, ef_search: int = EF_SEARCH) -> None:
        self._pool = pool
        self.ef_search = ef_search

    async def ensure_knowledge_base(self, org_id: str, bot_id: str, name: str | None = None) -> KnowledgeBaseRef | None:
        """The bot's knowledge base `name` (default: the bot's slug), created when missing; None: no such bot."""
        async with self._pool.acquire() as con, con.transaction():
            await act_for(con, org_id)
            row = await con.fetchrow(QUERIES["knowledge/ensure_knowledge_base"], bot_id, name)
        return None if row is None else KnowledgeBaseRef(id=str(row["id"]), language=row["language"])

    async def document_state(self, org_id: str, knowledge_base_id: str, uri: str) -> DocumentState | None:
        """The stored state of the live document at uri, if any (a read: no lock, no write)."""
        async with self._pool.acquire() as con, con.transaction(readonly=True):
            await act_for(con, org_id)
            row = await con.fetchrow(QUERIES["knowledge/select_document"], knowledge_base_id, uri)
        if row is None:
            return None
        return DocumentState(
            id=str(row["id"]),
            content_sha256=bytes(row["content_sha256"] or b""),
            status=row["status"],
            chunk_count=row["chunk_count"],
            embedding_model=row["embedding_model"],
        )

    async def write_document(
        self, org_id: str, knowledge_base_id: str, document: DocumentWrite, chunks: Sequence[ChunkRow]
    ) -> WriteResult:
        """Stores a document and replaces its chunks in one transaction: readers see old or new, never half."""
        async with self._pool.acquire() as con, con.transaction():
            await act_for(con, org_id)
            return await write_document(con, org_id, knowledge_base_id, document, chunks)

    async def search(
        self,
        org_id: str,
        bot_id: str,
        *,
        text: str,
        vector: Sequence[float] | None,
        embedding_model: str | None,
        limit: int,
        candidates: int | None = None,
        knowledge_base: str | None = None,
    ) -> list[SearchHit]:
        """The bot's best chunks for the query, fused from vector and full-text rankings."""
        async with self._pool.acquire() as con, con.transaction(readonly=True):
            return await search(
                con,
                org_id,
                bot_id,
                text=text,
                vector=vector,
                embedding_model=embedding_model,
                limit=limit,
                candidates=candidates,
                knowledge_base=knowledge_base,
                ef_search=self.ef_search,
            )


async def write_document(
    con: asyncpg.Connection,
    org_id: str,
    knowledge_base_id: str,
    document: DocumentWrite,
    chunks: Sequence[ChunkRow],
) -> WriteResult:
    """Upserts the document and swaps its chunks; call inside a transaction acting for org_id."""
    metadata = {**document.metadata, "embedding_model": document.embedding_model}
    row = await con.fetchrow(
        QUERIES["knowledge/upsert_document"],
        org_id,
        knowledge_base_id,
        document.uri,
        document.title,
        document.mime_type,
        document.content_sha256,
        document.byte_size,
        len(chunks),
        metadata,
    )
    if row is None:
        # A concurrent ingest stored exactly this content first.
        return WriteResult(outcome="unchanged", document_id=None, chunks=0)
    document_id = row["id"]
    if not row["created"]:
        await con.execute(QUERIES["knowledge/delete_chunks"], document_id)
    if chunks:
        await con.execute(
            QUERIES["knowledge/insert_chunks"],
            org_id,
            knowledge_base_id,
            document_id,
            [c.ordinal for c in chunks],
            [c.content for c in chunks],
            [c.words for c in chunks],
            [_vector(c.embedding) for c in chunks],
            [c.metadata for c in chunks],
        )
    if document.embedding_model is not None:
        await con.execute(QUERIES["knowledge/update_embedding_model"], knowledge_base_id, document.embedding_model)
    return WriteResult(
        outcome="created" if row["created"] else "updated", document_id=str(document_id), chunks=len(chunks)
    )


async def search(
    con: asyncpg.Connection,
    org_id: str,
    bot_id: str,
    *,
    text: str,
    vector: Sequence[float] | None,
    embedding_model: str | None,
    limit: int,
    candidates: int | None = None,
    knowledge_base: str | None = None,
    ef_search: int = EF_SEARCH,
) -> list[SearchHit]:
    """Hybrid search inside the caller's transaction; sets the tenant and HNSW scan for it."""
    if limit < 1:
        return []
    # Each ranking contributes its top `candidates`: enough depth for fusion to reorder the
    # head, and ef_search is raised to match so the HNSW scan can return that many.
    depth = candidates or max(4 * limit, 40)
    await con.execute(QUERIES["knowledge/begin_search"], org_id, max(ef_search, depth))
    rows = await con.fetch(
        QUERIES["knowledge/search_hybrid"],
        _vector(vector),
        text,
        bot_id,
        knowledge_base,
        depth,
        limit,
        embedding_model,
        vector is None,  # full text alone matches any word; beside vectors, every word
    )
    hits = []
    for row in rows:
        meta = row["metadata"] or {}
        hits.append(
            SearchHit(
                chunk_id=str(row["chunk_id"]),
                document_id=str(row["document_id"]),
                text=row["content"],
                title=row["title"],
                uri=row["uri"],
                ordinal=row["ordinal"],
                heading=str(meta.get("heading", "")),
                page=meta.get("page"),
                score=row["score"],
                similarity=row["similarity"],
                vector_rank=row["vector_rank"],
                text_rank=row["text_rank"],
            )
        )
    return hits


async def ensure_bot(con: asyncpg.Connection, *, org_slug: str, bot_slug: str, name: str) -> tuple[str, str] | None:
    """(org_id, bot_id) of the bot, registering the organization and bot if missing (as the owner)."""
    async with con.transaction():
        row = await con.fetchrow(QUERIES["knowledge/ensure_bot"], org_slug, bot_slug, name)
    return None if row is None else (str(row["org_id"]), str(row["bot_id"]))


async def bots_by_slug(con: asyncpg.Connection, bot_slug: str) -> list[tuple[str, str, str]]:
    """(org_id, bot_id, org_slug) of every live bot with this slug (as the owner)."""
    rows = await con.fetch(QUERIES["knowledge/select_bots_by_slug"], bot_slug)
    return [(str(r["org_id"]), str(r["bot_id"]), r["org_slug"]) for r in rows]
