"""Property 3: monthly partitions created ahead and retired per retention; inserts never fail."""

from __future__ import annotations

import datetime as dt

import asyncpg

from storage.audit import verify_audit_chain
from storage.maintenance import maintain
from tests.storage.schema_seed import seed_tenant

PARTITIONED = {"messages", "inbound_events", "usage_events", "audit_logs", "voice_transcripts"}

_PARTITIONS = """
SELECT c.relname, botrt_partition_upper_bound(c.oid) AS upper_bound
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = $1::regclass
 ORDER BY 2
"""
_MESSAGE = """
INSERT INTO messages (org_id, conversation_id, direction, kind, text, status, created_at)
VALUES ($1, $2, 'inbound', 'text', 'hi', 'processed', $3)
"""
_AUDIT = """
INSERT INTO audit_logs (org_id, actor_type, action, created_at) VALUES ($1, 'system', 'test.event', $2)
"""


def _month(ts: dt.datetime, shift: int = 0) -> str:
    index = ts.year * 12 + ts.month - 1 + shift
    return f"{index // 12:04d}{index % 12 + 1:02d}"


async def test_the_high_volume_tables_are_partitioned_by_month(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        partitioned = await con.fetch(
            """
            SELECT c.relname, p.partstrat::text, format_type(a.atttypid, a.atttypmod) AS key_type
              FROM pg_partitioned_table p
              JOIN pg_class c ON c.oid = p.partrelid
              JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
            """
        )
        registered = {r["table_name"] for r in await con.fetch("SELECT table_name FROM partition_registry")}
        defaults = {
            r["relname"]
            for r in await con.fetch(
                "SELECT c.relname FROM pg_class c WHERE c.relispartition"
                " AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'"
            )
        }
    finally:
        await con.close()
    assert {r["relname"] for r in partitioned} == PARTITIONED
    assert all(r["partstrat"] == "r" and r["key_type"] == "timestamp with time zone" for r in partitioned)
    # Maintenance knows every partitioned table, and each has its safety-net DEFAULT partition.
    assert registered == PARTITIONED
    assert defaults == {f"{name}_default" for name in PARTITIONED}


async def test_maintenance_keeps_partitions_at_least_two_months_ahead(database_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    later = now + dt.timedelta(days=190)
    con = await asyncpg.connect(database_url)
    try:
        await maintain(con, as_of=now)
        for table in PARTITIONED:
            names = {r["relname"] for r in await con.fetch(_PARTITIONS, table)}
            assert {f"{table}_p{_month(now, shift)}" for shift in range(-1, 4)} <= names
        report = await maintain(con, as_of=later)
        assert f"messages_p{_month(later, 3)}" in report.created_partitions
        assert f"audit_logs_p{_month(later, 2)}" in report.created_partitions
    finally:
        await con.close()


async def test_an_insert_for_a_month_without_partition_succeeds(database_url: str) -> None:
    far = dt.datetime.now(dt.UTC) + dt.timedelta(days=5 * 365)
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        await con.execute(_MESSAGE, acme.org_id, acme.conversation_id, far)
        await con.execute(_AUDIT, acme.org_id, far)
        assert await con.fetchval("SELECT count(*) FROM messages_default") == 1
        assert await con.fetchval("SELECT count(*) FROM audit_logs_default") == 1

        # Maintenance moves such rows into a partition of their own, audit links intact.
        report = await maintain(con)
        assert report.drained_default_rows == 2
        assert await con.fetchval("SELECT count(*) FROM messages_default") == 0
        where = await con.fetchval("SELECT tableoid::regclass::text FROM messages WHERE created_at = $1", far)
        assert where == f"messages_p{_month(far)}"
        assert (await verify_audit_chain(con)).ok
        # And the DEFAULT partition is back, ready for the next stray row.
        await con.execute(_MESSAGE, acme.org_id, acme.conversation_id, far + dt.timedelta(days=400))
    finally:
        await con.close()


async def test_partitions_past_the_longest_retention_are_dropped(database_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    con = await asyncpg.connect(database_url)
    try:
        short = await seed_tenant(con, "short")
        long = await seed_tenant(con, "long")
        await con.execute(
            "INSERT INTO data_retention_policies (org_id, resource, retention_days)"
            " VALUES ($1, 'messages', 30), ($2, 'messages', 90)",
            short.org_id,
            long.org_id,
        )
        await con.execute("SELECT botrt_ensure_monthly_partitions('messages', $1, 9)", now - dt.timedelta(days=240))
        for tenant in (short, long):
            for age in (200, 60, 60, 60, 5):
                await con.execute(_MESSAGE, tenant.org_id, tenant.conversation_id, now - dt.timedelta(days=age))
        old_partition = f"messages_p{_month(now - dt.timedelta(days=200))}"

        report = await maintain(con, as_of=now, batch_size=2)

        # Whole months older than the longest retention (90 days) are gone.
        assert old_partition in report.dropped_partitions
        assert await con.fetchval("SELECT to_regclass($1)", old_partition) is None
        for part in await con.fetch(_PARTITIONS, "messages"):
            assert part["upper_bound"] is None or part["upper_bound"] > now - dt.timedelta(days=90)
        # The 30-day organization lost its 60-day-old rows, in batches; the 90-day one kept them.
        assert report.deleted_rows == {"messages": 3}
        assert report.prune_batches == 2
        ages = "SELECT count(*) FROM messages WHERE org_id = $1 AND created_at < $2"
        assert await con.fetchval(ages, short.org_id, now - dt.timedelta(days=30)) == 0
        assert await con.fetchval(ages, long.org_id, now - dt.timedelta(days=30)) == 3
        assert await con.fetchval("SELECT count(*) FROM messages WHERE org_id = $1", short.org_id) == 1
    finally:
        await con.close()


async def test_dedupe_keys_are_pruned_after_the_redelivery_window(database_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        await con.execute(
            "INSERT INTO inbound_dedupe_keys (channel_id, external_id, org_id, created_at)"
            " VALUES ($1, 'old', $2, $3), ($1, 'recent', $2, $4)",
            acme.channel_id,
            acme.org_id,
            now - dt.timedelta(days=9),
            now - dt.timedelta(days=6, hours=23),
        )
        report = await maintain(con, as_of=now)
        assert report.pruned_dedupe_keys == 1
        assert [r["external_id"] for r in await con.fetch("SELECT external_id FROM inbound_dedupe_keys")] == ["recent"]
    finally:
        await con.close()


async def test_retiring_audit_rows_keeps_the_chain_verifiable(database_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    con = await asyncpg.connect(database_url)
    try:
        keeps_month = await seed_tenant(con, "month")
        keeps_week = await seed_tenant(con, "week")
        await con.execute(
            "INSERT INTO data_retention_policies (org_id, resource, retention_days)"
            " VALUES ($1, 'audit_logs', 30), ($2, 'audit_logs', 7)",
            keeps_month.org_id,
            keeps_week.org_id,
        )
        await con.execute("SELECT botrt_ensure_monthly_partitions('audit_logs', $1, 5)", now - dt.timedelta(days=120))
        for age in (100, 100, 70, 20, 20, 1):
            for tenant in (keeps_month, keeps_week):
                await con.execute(_AUDIT, tenant.org_id, now - dt.timedelta(days=age))

        report = await maintain(con, as_of=now, batch_size=1)

        # Partitions wholly older than 30 days were dropped after checkpointing each chain; the
        # 7-day organization's 20-day-old rows were deleted with a checkpoint too.
        assert f"audit_logs_p{_month(now - dt.timedelta(days=100))}" in report.dropped_partitions
        assert report.audit_checkpoints >= 2
        assert report.deleted_rows == {"audit_logs": 2}
        checkpoints = await con.fetch("SELECT org_id, reason FROM audit_checkpoints")
        assert {(r["org_id"], r["reason"]) for r in checkpoints} >= {
            (keeps_month.org_id, "partition_dropped"),
            (keeps_week.org_id, "partition_dropped"),
            (keeps_week.org_id, "rows_pruned"),
        }
        verification = await verify_audit_chain(con)
        assert verification.ok, verification.breaks
        assert verification.rows_checked == await con.fetchval("SELECT count(*) FROM audit_logs")

        # Appending after retirement continues the chain, which still verifies.
        await con.execute(_AUDIT, keeps_week.org_id, now)
        assert (await verify_audit_chain(con, keeps_week.org_id)).ok
    finally:
        await con.close()


async def test_no_foreign_key_references_a_partitioned_table(database_url: str) -> None:
    # A partition referenced by a foreign key could not be detached while rows point into it.
    con = await asyncpg.connect(database_url)
    try:
        referencing = await con.fetch(
            "SELECT conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.confrelid"
            " WHERE c.contype = 'f' AND (t.relkind = 'p' OR t.relispartition)"
        )
    finally:
        await con.close()
    assert referencing == []
