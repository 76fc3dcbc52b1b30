"""Ingestion on real PostgreSQL: unchanged documents write nothing, changed ones swap atomically."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from engine.embeddings import Embedder
from engine.knowledge import KnowledgeService
from storage.knowledge import ChunkRow, DocumentWrite, PgKnowledgeStore
from tests.knowledge.conftest import Tenant, make_tenant


async def _chunks(database_url: str) -> dict[str, list[tuple[str, int]]]:
    """Chunk ids and ordinals per document uri (as superuser: every tenant)."""
    con = await asyncpg.connect(database_url)
    try:
        rows = await con.fetch(
            "SELECT d.uri, c.id::text AS id, c.ordinal FROM knowledge_chunks c"
            " JOIN knowledge_documents d ON d.id = c.document_id ORDER BY d.uri, c.ordinal"
        )
    finally:
        await con.close()
    found: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        found.setdefault(row["uri"], []).append((row["id"], row["ordinal"]))
    return found


async def _row_versions(database_url: str) -> list[tuple[str, str]]:
    """(id, xmin) of every knowledge row: any write changes or adds one."""
    con = await asyncpg.connect(database_url)
    try:
        rows = await con.fetch(
            "SELECT id::text, xmin::text FROM knowledge_documents"
            " UNION ALL SELECT id::text, xmin::text FROM knowledge_chunks"
            " UNION ALL SELECT id::text, xmin::text FROM knowledge_bases"
            " UNION ALL SELECT knowledge_base_id::text, xmin::text FROM bot_knowledge_bases ORDER BY 1"
        )
    finally:
        await con.close()
    return [(r["id"], r["xmin"]) for r in rows]


async def test_first_ingest_creates_every_document_with_its_chunks(
    service: KnowledgeService, tenant: Tenant, documents: list[Path], database_url: str
) -> None:
    report = await service.ingest(tenant.org_id, tenant.bot_id, documents)
    assert [d.outcome for d in report.documents] == ["created"] * 4
    stored = await _chunks(database_url)
    assert len(stored) == 4
    assert sorted(d.chunks for d in report.documents) == sorted(len(v) for v in stored.values())
    assert report.chunks == sum(len(v) for v in stored.values())
    for chunks in stored.values():
        assert [ordinal for _, ordinal in chunks] == list(range(len(chunks)))


async def test_reingesting_unchanged_documents_writes_nothing(
    service: KnowledgeService, tenant: Tenant, documents: list[Path], database_url: str
) -> None:
    await service.ingest(tenant.org_id, tenant.bot_id, documents)
    before = await _row_versions(database_url)
    seen: list[str] = []
    report = await service.ingest(tenant.org_id, tenant.bot_id, documents, lambda d: seen.append(d.outcome))
    assert [d.outcome for d in report.documents] == ["unchanged"] * 4
    assert seen == ["unchanged"] * 4
    assert report.chunks == 0
    # Same rows, same row versions: not one UPDATE, INSERT or DELETE happened.
    assert await _row_versions(database_url) == before


async def test_a_changed_document_replaces_its_chunks_and_keeps_its_id(
    service: KnowledgeService, tenant: Tenant, documents: list[Path], database_url: str
) -> None:
    first = await service.ingest(tenant.org_id, tenant.bot_id, documents)
    before = await _chunks(database_url)
    markdown = documents[0]
    markdown.write_text(markdown.read_text() + "\n## Store credit\n\nStore credit never expires.\n")

    second = await service.ingest(tenant.org_id, tenant.bot_id, documents)
    assert [d.outcome for d in second.documents] == ["updated", "unchanged", "unchanged", "unchanged"]
    assert second.documents[0].document_id == first.documents[0].document_id
    after = await _chunks(database_url)
    uri = markdown.resolve().as_uri()
    assert len(after[uri]) == len(before[uri]) + 1 == second.documents[0].chunks
    # Every chunk of the changed document is new; the others' are untouched.
    assert not {i for i, _ in after[uri]} & {i for i, _ in before[uri]}
    assert {k: v for k, v in after.items() if k != uri} == {k: v for k, v in before.items() if k != uri}


async def test_a_failed_replacement_leaves_the_old_chunks(
    store: PgKnowledgeStore, service: KnowledgeService, tenant: Tenant, documents: list[Path], database_url: str
) -> None:
    report = await service.ingest(tenant.org_id, tenant.bot_id, documents[:1])
    before = await _chunks(database_url)
    state = await store.document_state(tenant.org_id, report.knowledge_base_id, documents[0].resolve().as_uri())
    assert state is not None
    broken = DocumentWrite(
        uri=documents[0].resolve().as_uri(),
        title="Returns policy",
        mime_type="text/markdown",
        content_sha256=b"\x01" * 32,
        byte_size=1,
        embedding_model=service.embedding_model,
    )
    # The old chunks are deleted first; the second chunk's 3-d vector then fails the insert.
    rows = [
        ChunkRow(ordinal=0, content="new", words=1, embedding=[0.1] * 384, metadata={}),
        ChunkRow(ordinal=1, content="bad", words=1, embedding=[0.1] * 3, metadata={}),
    ]
    with pytest.raises(asyncpg.DataError):
        await store.write_document(tenant.org_id, report.knowledge_base_id, broken, rows)
    assert await _chunks(database_url) == before
    assert await store.document_state(tenant.org_id, report.knowledge_base_id, broken.uri) == state


async def test_switching_the_embedder_reembeds_unchanged_documents(
    store: PgKnowledgeStore, embedder: Embedder, tenant: Tenant, documents: list[Path]
) -> None:
    fulltext = KnowledgeService(store, None)
    assert [d.outcome for d in (await fulltext.ingest(tenant.org_id, tenant.bot_id, documents[:2])).documents] == [
        "created",
        "created",
    ]
    semantic = KnowledgeService(store, embedder)
    report = await semantic.ingest(tenant.org_id, tenant.bot_id, documents[:2])
    assert [d.outcome for d in report.documents] == ["updated", "updated"]
    again = await semantic.ingest(tenant.org_id, tenant.bot_id, documents[:2])
    assert [d.outcome for d in again.documents] == ["unchanged", "unchanged"]


async def test_unreadable_and_unsupported_files_fail_alone(
    service: KnowledgeService, tenant: Tenant, documents: list[Path], tmp_path: Path
) -> None:
    (tmp_path / "deck.pptx").write_bytes(b"PK")
    paths = [tmp_path / "missing.md", tmp_path / "deck.pptx", documents[2]]
    report = await service.ingest(tenant.org_id, tenant.bot_id, paths)
    assert [d.outcome for d in report.documents] == ["failed", "failed", "created"]
    assert "cannot read" in (report.documents[0].error or "")
    assert "unsupported document type" in (report.documents[1].error or "")


async def test_two_bots_of_one_organization_have_their_own_knowledge_base(
    service: KnowledgeService, tenant: Tenant, documents: list[Path], database_url: str
) -> None:
    other = await make_tenant(database_url, "acme", bot="sales")
    assert other.org_id == tenant.org_id
    await service.ingest(tenant.org_id, tenant.bot_id, documents[:1])
    await service.ingest(other.org_id, other.bot_id, documents[2:3])
    mine = await service.hits("return within 30 days", org_id=tenant.org_id, bot_id=tenant.bot_id, limit=10)
    theirs = await service.hits("return within 30 days", org_id=other.org_id, bot_id=other.bot_id, limit=10)
    assert {h.title for h in mine} == {"Returns policy"}
    assert {h.title for h in theirs} == {"Warranty"}
