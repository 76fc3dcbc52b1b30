"""Property 2: pgvector is enabled; chunk embeddings have an HNSW index that queries use."""

from __future__ import annotations

import random

import asyncpg

from tests.storage.schema_seed import act_for, app_connection, seed_tenant

_INSERT_CHUNKS = """
WITH kb AS (
    INSERT INTO knowledge_bases (org_id, name) VALUES ($1, 'faq') RETURNING id, org_id
), doc AS (
    INSERT INTO knowledge_documents (org_id, knowledge_base_id, title)
    SELECT org_id, id, 'Returns policy' FROM kb RETURNING id, org_id, knowledge_base_id
)
INSERT INTO knowledge_chunks (org_id, knowledge_base_id, document_id, ordinal, content, embedding)
SELECT doc.org_id, doc.knowledge_base_id, doc.id, g,
       CASE WHEN g % 3 = 0 THEN 'You can ask for a refund within 30 days.' ELSE 'Shipping takes ' || g || ' days.' END,
       (SELECT array_agg(random()::real) FROM generate_series(1, 384) WHERE g > 0)::vector
  FROM doc, generate_series(1, $2::int) AS g
"""


def _vector() -> str:
    return "[" + ",".join(f"{random.random():.5f}" for _ in range(384)) + "]"


async def _plan(con: asyncpg.Connection, query: str, *args: object) -> str:
    rows = await con.fetch("EXPLAIN " + query, *args)
    return "\n".join(r[0] for r in rows)


async def test_pgvector_is_enabled(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        version = await con.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        embedding_type = await con.fetchval(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = 'knowledge_chunks'::regclass AND attname = 'embedding'"
        )
    finally:
        await con.close()
    assert version is not None
    assert embedding_type == "vector(384)"


async def test_chunk_embeddings_have_an_hnsw_cosine_index(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        indexes = await con.fetch(
            """
            SELECT i.indexrelid::regclass::text AS name, am.amname, opc.opcname, a.attname
              FROM pg_index i
              JOIN pg_class c ON c.oid = i.indexrelid
              JOIN pg_am am ON am.oid = c.relam
              JOIN pg_opclass opc ON opc.oid = i.indclass[0]
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = 'knowledge_chunks'::regclass
            """
        )
    finally:
        await con.close()
    found = {(r["amname"], r["opcname"], r["attname"]) for r in indexes}
    assert ("hnsw", "vector_cosine_ops", "embedding") in found
    assert ("gin", "tsvector_ops", "tsv") in found


async def test_a_nearest_neighbour_query_uses_the_hnsw_index(database_url: str) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(admin, "acme")
        other = await seed_tenant(admin, "other")
        await admin.execute(_INSERT_CHUNKS, acme.org_id, 60)
        await admin.execute(_INSERT_CHUNKS, other.org_id, 60)
        await admin.execute("ANALYZE knowledge_chunks")
        query = "SELECT id, org_id FROM knowledge_chunks ORDER BY embedding <=> $1::text::vector LIMIT 5"
        # The table is tiny, so a sequential scan would win on cost; forbid it to see the index.
        await admin.execute("SET enable_seqscan = off")
        assert "knowledge_chunks_embedding_idx" in await _plan(admin, query, _vector())
    finally:
        await admin.close()

    # The runtime's role under row-level security: the index is usable with the policy's filter
    # and one tenant's rows come back. (On 120 rows the planner rightly prefers the org_id index
    # and a sort; with sorting also off it must walk the HNSW graph in distance order.)
    async with app_connection(database_url) as con, con.transaction():
        await act_for(con, acme.org_id)
        await con.execute("SET LOCAL enable_seqscan = off")
        await con.execute("SET LOCAL enable_sort = off")
        plan = await _plan(con, query, _vector())
        assert "knowledge_chunks_embedding_idx" in plan
        rows = await con.fetch(query, _vector())
        assert rows and {r["org_id"] for r in rows} == {acme.org_id}


async def test_full_text_search_uses_the_gin_index(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        await con.execute(_INSERT_CHUNKS, acme.org_id, 30)
        await con.execute("ANALYZE knowledge_chunks")
        await con.execute("SET enable_seqscan = off")
        query = "SELECT id FROM knowledge_chunks WHERE tsv @@ websearch_to_tsquery('english', $1)"
        assert "knowledge_chunks_tsv_idx" in await _plan(con, query, "refunds")
        assert len(await con.fetch(query, "refunds")) == 10
    finally:
        await con.close()
