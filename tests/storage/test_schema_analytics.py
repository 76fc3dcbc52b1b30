"""Property 7: analytics come from materialized views that maintenance refreshes CONCURRENTLY."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from storage.maintenance import maintain
from tests.storage.schema_seed import seed_tenant

VIEWS = {
    "mv_daily_conversations",
    "mv_daily_containment",
    "mv_daily_channel_volume",
    "mv_usage_by_period",
    "mv_daily_csat",
}


async def test_every_materialized_view_has_a_unique_index(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        rows = await con.fetch(
            """
            SELECT c.relname,
                   EXISTS (SELECT FROM pg_index i
                            WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL
                              AND i.indexprs IS NULL) AS unique_index
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'm'
            """
        )
    finally:
        await con.close()
    assert {r["relname"] for r in rows} == VIEWS
    assert all(r["unique_index"] for r in rows)


async def test_maintenance_refreshes_the_numbers(database_url: str) -> None:
    today = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        second = await con.fetchval(
            "INSERT INTO conversations (org_id, bot_id, channel_id, end_user_id, started_at)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            acme.org_id,
            acme.bot_id,
            acme.channel_id,
            acme.end_user_id,
            today,
        )
        await con.execute("UPDATE conversations SET started_at = $1", today)
        await con.execute(
            "INSERT INTO handoffs (org_id, conversation_id, requested_by) VALUES ($1, $2, 'end_user')",
            acme.org_id,
            second,
        )
        await con.execute(
            "INSERT INTO messages (org_id, conversation_id, direction, seq, kind, text, status, created_at)"
            " VALUES ($1, $2, 'inbound', NULL, 'text', 'hi', 'processed', $3),"
            "        ($1, $2, 'outbound', 1, 'text', 'hello', 'sent', $3),"
            "        ($1, $2, 'outbound', 2, 'text', 'how can I help?', 'sent', $3)",
            acme.org_id,
            acme.conversation_id,
            today,
        )
        await con.execute(
            "INSERT INTO usage_events (org_id, metric, quantity, occurred_at)"
            " VALUES ($1, 'llm_prompt_tokens', 120, $2), ($1, 'llm_prompt_tokens', 80, $2)",
            acme.org_id,
            today,
        )
        await con.execute(
            "INSERT INTO csat_responses (org_id, conversation_id, bot_id, end_user_id, rating, created_at)"
            " VALUES ($1, $2, $3, $4, 5, $6), ($1, $5, $3, $4, 2, $6)",
            acme.org_id,
            acme.conversation_id,
            acme.bot_id,
            acme.end_user_id,
            second,
            today,
        )
        assert await con.fetchval("SELECT count(*) FROM mv_daily_conversations") == 0

        report = await maintain(con)

        assert set(report.refreshed_views) == VIEWS
        day = today.date()
        assert await con.fetchval("SELECT started FROM mv_daily_conversations WHERE day = $1", day) == 2
        containment = await con.fetchrow("SELECT * FROM mv_daily_containment WHERE day = $1", day)
        assert containment is not None
        assert (containment["handed_off"], containment["contained"]) == (1, 1)
        assert float(containment["containment_rate"]) == 0.5 and float(containment["handoff_rate"]) == 0.5
        volume = await con.fetchrow("SELECT * FROM mv_daily_channel_volume WHERE day = $1", day)
        assert volume is not None
        assert (volume["channel_kind"], volume["inbound"], volume["outbound"]) == ("webchat", 1, 2)
        usage = await con.fetchrow("SELECT * FROM mv_usage_by_period WHERE metric = 'llm_prompt_tokens'")
        assert usage is not None
        assert (usage["period"], usage["quantity"]) == (day.replace(day=1), 200)
        csat = await con.fetchrow("SELECT * FROM mv_daily_csat WHERE day = $1", day)
        assert csat is not None
        assert (csat["responses"], float(csat["csat"])) == (2, 0.5)
    finally:
        await con.close()


async def test_a_concurrent_refresh_does_not_block_readers(database_url: str) -> None:
    refresher = await asyncpg.connect(database_url)
    reader = await asyncpg.connect(database_url)
    try:
        await seed_tenant(refresher, "acme")
        await reader.execute("SET lock_timeout = '1s'")
        async with refresher.transaction():
            refreshed = await refresher.fetch("SELECT * FROM botrt_refresh_analytics()")
            assert all(r["refreshed_concurrently"] for r in refreshed)
            # The refresh's transaction is still open; readers go on.
            for view in VIEWS:
                await reader.fetchval(f"SELECT count(*) FROM {view}")
        # Whereas a plain REFRESH locks readers out until it commits: the test can tell them apart.
        async with refresher.transaction():
            await refresher.execute("REFRESH MATERIALIZED VIEW mv_daily_conversations")
            with pytest.raises(asyncpg.LockNotAvailableError):
                await reader.fetchval("SELECT count(*) FROM mv_daily_conversations")
    finally:
        await refresher.close()
        await reader.close()
