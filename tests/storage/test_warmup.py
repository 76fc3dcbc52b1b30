"""Start-up warms every pooled connection for the hot path and leaves nothing behind."""

from __future__ import annotations

import asyncpg

from storage.pool import create_app_pool
from storage.queries import QUERIES
from storage.warmup import warm_up

HOT = ("contacts/open_conversations", "messages/accept_inbound", "conversations/commit_turns", "messages/mark_sent")


async def test_every_connection_has_the_hot_statements_prepared_and_nothing_is_written(database_url: str) -> None:
    pool = await create_app_pool(database_url, size=3)
    try:
        await warm_up(pool)
        connections = [await pool.acquire() for _ in range(3)]
        try:
            for con in connections:
                prepared = {r["statement"] for r in await con.fetch("SELECT statement FROM pg_prepared_statements")}
                assert all(QUERIES[name] in prepared for name in HOT), prepared
        finally:
            for con in connections:
                await pool.release(con)
    finally:
        await pool.close()
    admin = await asyncpg.connect(database_url)
    try:
        for table in ("messages", "end_users", "conversations", "inbound_dedupe_keys"):
            assert await admin.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    finally:
        await admin.close()
