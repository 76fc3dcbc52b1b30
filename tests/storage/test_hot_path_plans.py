"""The hot path's status updates find their rows by primary key, however many dead entries the
pending index holds (sql/schema/105_pending_index_plans.sql). The plans are read with
auto_explain from inside the functions the runtime calls, acting as botrt_app."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import asyncpg

from tests.storage.schema_seed import Tenant, seed_tenant

# Enough dead pending-index entries for the bitmap plan to win (the planner counts live rows), few
# enough rows for a sequential scan to look cheap.
DEAD = 3000
BATCH = 30


async def _dead_then_pending(con: asyncpg.Connection, tenant: Tenant, direction: str) -> list[asyncpg.Record]:
    """DEAD messages that went pending -> done (their index entries dead, not vacuumed), then
    BATCH pending ones; returns the pending ones' ids and times."""
    seq = "g" if direction == "outbound" else "NULL"
    insert = f"""
        INSERT INTO messages (id, org_id, conversation_id, direction, seq, kind, text, status, created_at)
        SELECT gen_random_uuid(), $1, $2, $3, {seq}, 'text', 'x', 'pending', now() - make_interval(secs => g * 0.001)
        FROM generate_series($4::int, $5::int) AS g
        RETURNING id, extract(epoch FROM created_at)::float8 AS ts"""
    await con.fetch(insert, tenant.org_id, tenant.conversation_id, direction, 1, DEAD)
    await con.execute("UPDATE messages SET status = 'processed' WHERE status = 'pending'")
    await con.execute("ANALYZE messages")
    return await con.fetch(insert, tenant.org_id, tenant.conversation_id, direction, DEAD + 1, DEAD + BATCH)


async def _plans_of(con: asyncpg.Connection, call: str, *args: Any) -> list[dict[str, Any]]:
    """Runs call as botrt_app with auto_explain reporting every nested statement's plan."""
    plans: list[dict[str, Any]] = []

    def listen(_con: object, message: asyncpg.PostgresLogMessage) -> None:
        text = message.message
        if "Query Text" in text:
            plans.append(json.loads(text[text.index("{"):]))

    con.add_log_listener(listen)
    await con.execute("LOAD 'auto_explain'")
    await con.execute(
        "SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;"
        " SET auto_explain.log_format = json; SET auto_explain.log_analyze = on; SET client_min_messages = log"
    )
    async with con.transaction():
        await con.execute("SET LOCAL ROLE botrt_app")
        await con.execute(call, *args)
    await con.execute("SET client_min_messages = notice")
    con.remove_log_listener(listen)
    return plans


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


def _update_of_messages(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    updates = [p for p in plans if p["Query Text"].lstrip().startswith("UPDATE messages")]
    assert len(updates) == 1, [p["Query Text"] for p in plans]
    return _nodes(updates[0]["Plan"])


def _assert_primary_key_lookups(nodes: list[dict[str, Any]]) -> None:
    # Never a bitmap with the pending index (it walks every dead entry once per looked-up row)
    # nor a sequential scan (a generic plan made while the table was small keeps reading it whole).
    scans = [n for n in nodes if "Scan" in n["Node Type"] and n.get("Relation Name", "").startswith("messages")]
    assert scans and all(n["Node Type"] == "Index Scan" and n["Index Name"].endswith("_pkey") for n in scans), [
        (n["Node Type"], n.get("Index Name")) for n in scans
    ]


async def test_sent_marks_look_rows_up_by_primary_key(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        tenant = await seed_tenant(con, "acme")
        pending = await _dead_then_pending(con, tenant, "outbound")
        plans = await _plans_of(
            con,
            "SELECT botrt_mark_sent($1, $2, $3, $4, $5)",
            tenant.org_id,
            [r["id"] for r in pending],
            [r["ts"] for r in pending],
            [f"provider-{i}" for i in range(BATCH)],
            [None] * BATCH,
        )
        _assert_primary_key_lookups(_update_of_messages(plans))
        sent = await con.fetchval("SELECT count(*) FROM messages WHERE status = 'sent'")
        assert sent == BATCH
    finally:
        await con.close()


async def test_turn_commits_mark_inbound_processed_by_primary_key(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        tenant = await seed_tenant(con, "acme")
        pending = await _dead_then_pending(con, tenant, "inbound")
        empty = json.dumps([])
        plans = await _plans_of(
            con,
            "SELECT botrt_commit_turns($1, $2, $3::jsonb, $4, $5, $6, $7, $8, "
            + ", ".join(["$9::jsonb"] * 10)
            + ")",
            tenant.org_id,
            [tenant.conversation_id],
            json.dumps([{"node": "listen"}]),
            [0],
            ["active"],
            [r["id"] for r in pending],
            [r["ts"] for r in pending],
            [None] * BATCH,
            empty,
        )
        _assert_primary_key_lookups(_update_of_messages(plans))
        processed = await con.fetchval(
            "SELECT count(*) FROM messages WHERE status = 'processed' AND created_at > to_timestamp($1)",
            time.time() - 3600,
        )
        assert processed == DEAD + BATCH
        assert await con.fetchval("SELECT count(*) FROM messages WHERE status = 'pending'") == 0
    finally:
        await con.close()


async def test_first_contacts_read_no_table_whole(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        tenant = await seed_tenant(con, "acme")
        senders = [f"new-{i}" for i in range(BATCH)]
        plans = await _plans_of(
            con,
            "SELECT * FROM botrt_open_conversations($1, $2, $3, $4, $5)",
            tenant.org_id,
            [tenant.channel_id] * BATCH,
            [tenant.bot_id] * BATCH,
            senders,
            [None] * BATCH,
        )
        scans = [
            n["Relation Name"]
            for p in plans
            for n in _nodes(p["Plan"])
            if n["Node Type"] == "Seq Scan" and n["Relation Name"] in ("end_users", "conversations")
        ]
        assert not scans, scans
        opened = await con.fetchval("SELECT count(*) FROM conversations c JOIN end_users u ON u.id = c.end_user_id"
                                    " WHERE u.external_id = ANY($1)", senders)
        assert opened == BATCH
    finally:
        await con.close()


async def test_snapshot_reads_find_conversations_by_key(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        tenant = await seed_tenant(con, "acme")
        plans = await _plans_of(
            con, "SELECT * FROM botrt_select_snapshots($1, $2)", tenant.org_id, [tenant.conversation_id]
        )
        scans = [
            n["Relation Name"]
            for p in plans
            for n in _nodes(p["Plan"])
            if n["Node Type"] == "Seq Scan" and n["Relation Name"] in ("conversations", "end_users", "bot_channels")
        ]
        assert not scans, scans
        await con.execute("SET ROLE botrt_app")
        rows = await con.fetch("SELECT * FROM botrt_select_snapshots($1, $2)", tenant.org_id, [tenant.conversation_id])
        assert [r["id"] for r in rows] == [tenant.conversation_id] and rows[0]["channel_kind"] == "webchat"
        other = await con.fetch("SELECT * FROM botrt_select_snapshots($1, $2)", uuid.uuid4(), [tenant.conversation_id])
        assert other == []  # acting for another organization, row-level security hides it
    finally:
        await con.close()
