"""Property 4: row-level security on every tenant table; one org can't touch another's rows."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from storage.maintenance import maintain
from tests.storage.schema_seed import Tenant, act_for, app_connection, seed_tenant

_TENANT_TABLES = """
SELECT c.oid::regclass::text AS name, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT array_agg(pg_get_expr(p.polqual, p.polrelid) || ' | ' || pg_get_expr(p.polwithcheck, p.polrelid))
          FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND (c.relname = 'organizations'
        OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped))
"""


async def _fill(con: asyncpg.Connection, tenant: Tenant) -> None:
    """A few rows in tables of several domains, so tenant isolation is tested on real data."""
    await con.execute(
        """
        INSERT INTO messages (org_id, conversation_id, direction, kind, text, status)
        VALUES ($1, $2, 'inbound', 'text', 'hello', 'processed');
        """,
        tenant.org_id,
        tenant.conversation_id,
    )
    await con.execute(
        "INSERT INTO audit_logs (org_id, actor_type, action) VALUES ($1, 'system', 'bot.created')", tenant.org_id
    )
    await con.execute("INSERT INTO usage_events (org_id, metric, quantity) VALUES ($1, 'messages', 1)", tenant.org_id)
    await con.execute(
        "INSERT INTO api_keys (org_id, name, prefix, key_hash) VALUES ($1, 'ci', 'brt_abcd', sha256($2::bytea))",
        tenant.org_id,
        str(tenant.org_id).encode(),
    )
    await con.execute(
        "INSERT INTO handoffs (org_id, conversation_id, requested_by) VALUES ($1, $2, 'end_user')",
        tenant.org_id,
        tenant.conversation_id,
    )


async def test_the_runtime_role_is_not_superuser_and_cannot_bypass_rls(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        role = await con.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'botrt_app'")
    finally:
        await con.close()
    assert role is not None
    assert role["rolsuper"] is False and role["rolbypassrls"] is False


async def test_every_tenant_table_has_forced_rls_with_the_tenant_policy(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        tables = await con.fetch(_TENANT_TABLES)
    finally:
        await con.close()
    assert len(tables) >= 90
    for table in tables:
        assert table["relrowsecurity"] and table["relforcerowsecurity"], table["name"]
        column = "id" if table["name"] == "organizations" else "org_id"
        expected = f"({column} = botrt_current_org()) | ({column} = botrt_current_org())"
        assert table["policies"] == [expected], table["name"]


async def test_acting_for_one_org_neither_reads_nor_writes_anothers_rows(database_url: str) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(admin, "acme")
        rival = await seed_tenant(admin, "rival")
        for tenant in (acme, rival):
            await _fill(admin, tenant)
        tables = [r["name"] for r in await admin.fetch(_TENANT_TABLES)]
        acme_counts = {}
        for table in tables:
            column = "id" if table == "organizations" else "org_id"
            acme_counts[table] = await admin.fetchval(f"SELECT count(*) FROM {table} WHERE {column} = $1", acme.org_id)
    finally:
        await admin.close()

    async with app_connection(database_url) as con:
        async with con.transaction():
            await act_for(con, acme.org_id)
            # Queries that forget their WHERE clause see exactly the acting organization's rows.
            for table in tables:
                assert await con.fetchval(f"SELECT count(*) FROM {table}") == acme_counts[table], table
            assert await con.fetchval("SELECT count(*) FROM messages") == 1
            # An UPDATE or DELETE without WHERE touches only the acting organization's rows.
            assert await con.execute("UPDATE conversations SET status = 'ended'") == "UPDATE 1"
            assert await con.execute("DELETE FROM api_keys") == "DELETE 1"
            # Rows of another organization cannot be written, nor moved into it.
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                async with con.transaction():
                    await con.execute(
                        "INSERT INTO bots (org_id, slug, name) VALUES ($1, 'intruder', 'x')", rival.org_id
                    )
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                async with con.transaction():
                    await con.execute("UPDATE bots SET org_id = $1", rival.org_id)
            assert await con.execute("UPDATE bots SET name = 'mine' WHERE org_id = $1", rival.org_id) == "UPDATE 0"

        # With no organization set, no tenant row is visible at all.
        async with con.transaction():
            assert await con.fetchval("SELECT count(*) FROM organizations") == 0
            assert await con.fetchval("SELECT count(*) FROM conversations") == 0

    admin = await asyncpg.connect(database_url)
    try:
        assert await admin.fetchval("SELECT status FROM conversations WHERE org_id = $1", rival.org_id) == "active"
        assert await admin.fetchval("SELECT count(*) FROM api_keys WHERE org_id = $1", rival.org_id) == 1
        assert await admin.fetchval("SELECT name FROM bots WHERE org_id = $1", rival.org_id) == "Bot"
    finally:
        await admin.close()


async def test_partitions_and_materialized_views_are_not_reachable_directly(database_url: str) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        # Partitions created later, by maintenance, get no privileges either.
        await maintain(admin, as_of=dt.datetime.now(dt.UTC) + dt.timedelta(days=400), refresh=False)
        granted = await admin.fetch(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND (c.relispartition OR c.relkind = 'm')
               AND (has_table_privilege('botrt_app', c.oid, 'SELECT')
                    OR has_table_privilege('botrt_app', c.oid, 'INSERT'))
            """
        )
    finally:
        await admin.close()
    assert granted == []
    async with app_connection(database_url) as con:
        for relation in ("messages_default", "audit_logs_default", "mv_daily_conversations"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await con.fetchval(f"SELECT count(*) FROM {relation}")


async def test_views_the_runtime_can_read_are_tenant_scoped(database_url: str) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        views = await admin.fetch(
            """
            SELECT c.relname, coalesce(c.reloptions, '{}') AS options, pg_get_viewdef(c.oid) AS definition
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'v' AND has_table_privilege('botrt_app', c.oid, 'SELECT')
            """
        )
        acme = await seed_tenant(admin, "acme")
        rival = await seed_tenant(admin, "rival")
        await admin.fetch("SELECT * FROM botrt_refresh_analytics()")
    finally:
        await admin.close()
    assert len(views) >= 4
    for view in views:
        # Either RLS applies through the view (security_invoker) or the view filters by org itself.
        assert "security_invoker=true" in view["options"] or "botrt_current_org()" in view["definition"], view
    async with app_connection(database_url) as con, con.transaction():
        await act_for(con, acme.org_id)
        assert [r["org_id"] for r in await con.fetch("SELECT org_id FROM analytics_daily_conversations")] == [
            acme.org_id
        ]
        assert [r["id"] for r in await con.fetch("SELECT id FROM active_bots")] == [acme.bot_id]
    assert rival.org_id != acme.org_id


async def test_a_tenant_is_resolved_before_one_is_set_through_narrow_lookups(database_url: str) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(admin, "acme")
    finally:
        await admin.close()
    async with app_connection(database_url) as con:
        assert await con.fetchval("SELECT count(*) FROM bot_channels WHERE slug = 'acme-web'") == 0
        channel = await con.fetchrow("SELECT * FROM botrt_lookup_channel('acme-web')")
        assert channel is not None and channel["org_id"] == acme.org_id
        assert await con.fetchval("SELECT botrt_lookup_organization('acme')") == acme.org_id
        assert await con.fetchval("SELECT botrt_lookup_organization('nobody')") is None
