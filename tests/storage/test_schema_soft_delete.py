"""Property 8: soft delete (deleted_at) with views that hide deleted rows, and undo."""

from __future__ import annotations

import asyncpg

from tests.storage.schema_seed import act_for, app_connection, seed_tenant

SOFT_DELETED = ("organizations", "users", "bots", "knowledge_documents")


async def test_soft_deletable_tables_have_deleted_at_and_a_live_view(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        for table in SOFT_DELETED:
            column = await con.fetchval(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = $1::regclass AND attname = 'deleted_at' AND NOT attisdropped",
                table,
            )
            assert column == "timestamp with time zone", table
            assert await con.fetchval("SELECT to_regclass($1)", f"active_{table}") is not None
    finally:
        await con.close()


async def test_views_hide_deleted_rows_until_undone(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        gone = await seed_tenant(con, "gone")
        spare_bot = await con.fetchval(
            "INSERT INTO bots (org_id, slug, name) VALUES ($1, 'spare', 'Spare') RETURNING id", acme.org_id
        )
        await con.execute("INSERT INTO users (email) VALUES ('ann@example.com'), ('bob@example.com')")
        kb = await con.fetchval(
            "INSERT INTO knowledge_bases (org_id, name) VALUES ($1, 'faq') RETURNING id", acme.org_id
        )
        docs = [
            await con.fetchval(
                "INSERT INTO knowledge_documents (org_id, knowledge_base_id, title) VALUES ($1, $2, $3) RETURNING id",
                acme.org_id,
                kb,
                title,
            )
            for title in ("Returns", "Shipping")
        ]
        await con.execute(
            "INSERT INTO knowledge_chunks (org_id, knowledge_base_id, document_id, ordinal, content)"
            " SELECT $1, $2, d, 0, 'text' FROM unnest($3::uuid[]) AS d",
            acme.org_id,
            kb,
            docs,
        )

        await con.execute("UPDATE organizations SET deleted_at = now() WHERE id = $1", gone.org_id)
        await con.execute("UPDATE bots SET deleted_at = now() WHERE id = $1", spare_bot)
        await con.execute("UPDATE users SET deleted_at = now() WHERE email = 'bob@example.com'")
        await con.execute("UPDATE knowledge_documents SET deleted_at = now() WHERE id = $1", docs[1])

        assert {r["slug"] for r in await con.fetch("SELECT slug FROM active_organizations")} == {"acme"}
        # A bot is hidden when it or its organization is deleted.
        assert [r["id"] for r in await con.fetch("SELECT id FROM active_bots")] == [acme.bot_id]
        assert [r["email"] for r in await con.fetch("SELECT email FROM active_users")] == ["ann@example.com"]
        assert [r["id"] for r in await con.fetch("SELECT id FROM active_knowledge_documents")] == [docs[0]]
        assert [r["document_id"] for r in await con.fetch("SELECT document_id FROM active_knowledge_chunks")] == [
            docs[0]
        ]
        # The rows are still there; undo is clearing deleted_at.
        assert await con.fetchval("SELECT count(*) FROM bots") == 3
        await con.execute("UPDATE bots SET deleted_at = NULL WHERE id = $1", spare_bot)
        await con.execute("UPDATE knowledge_documents SET deleted_at = NULL WHERE id = $1", docs[1])
        assert await con.fetchval("SELECT count(*) FROM active_bots") == 2
        assert await con.fetchval("SELECT count(*) FROM active_knowledge_documents") == 2
        # A deleted user's address can be used again.
        await con.execute("INSERT INTO users (email) VALUES ('bob@example.com')")
    finally:
        await con.close()


async def test_the_views_apply_row_level_security(database_url: str) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(admin, "acme")
        await seed_tenant(admin, "rival")
    finally:
        await admin.close()
    async with app_connection(database_url) as con, con.transaction():
        await act_for(con, acme.org_id)
        assert [r["id"] for r in await con.fetch("SELECT id FROM active_organizations")] == [acme.org_id]
        assert [r["id"] for r in await con.fetch("SELECT id FROM active_bots")] == [acme.bot_id]
