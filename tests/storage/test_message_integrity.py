"""messages.conversation_id keeps a foreign key's promises, checked once per statement
(sql/schema/101_message_integrity.sql), through the batch writer the runtime uses."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import pytest

from runtime.events import InboundText
from runtime.ids import new_id
from storage.conversations import insert_messages, message_row
from storage.pool import create_app_pool
from tests.storage.schema_seed import Tenant, act_for, seed_tenant


def _rows(org_id: uuid.UUID, *conversations: uuid.UUID) -> list[tuple[object, ...]]:
    now = time.time()
    events = [
        InboundText(
            event_id=new_id(), org_id=str(org_id), conversation_id=str(c), channel_id=str(c),
            channel_kind="webchat", ts=now, external_id=f"e{i}", text=f"hello {i}",
        )
        for i, c in enumerate(conversations)
    ]
    return [message_row(e, direction="inbound", status="pending") for e in events]


async def _tenants(database_url: str) -> tuple[Tenant, Tenant]:
    con = await asyncpg.connect(database_url)
    try:
        return await seed_tenant(con, "acme"), await seed_tenant(con, "globex")
    finally:
        await con.close()


async def _insert(pool: asyncpg.Pool, tenant: Tenant, *conversations: uuid.UUID) -> None:
    async with pool.acquire() as con, con.transaction():
        await act_for(con, tenant.org_id)
        await insert_messages(con, str(tenant.org_id), _rows(tenant.org_id, *conversations))


async def test_the_writer_round_trips_every_column(database_url: str) -> None:
    acme, _ = await _tenants(database_url)
    pool = await create_app_pool(database_url, size=1)
    try:
        rows = _rows(acme.org_id, acme.conversation_id)
        async with pool.acquire() as con, con.transaction():
            await act_for(con, acme.org_id)
            await insert_messages(con, str(acme.org_id), rows)
            stored = await con.fetchrow("SELECT *, extract(epoch FROM created_at)::float8 AS ts FROM messages")
    finally:
        await pool.close()
    assert stored is not None
    event = rows[0][7]
    assert str(stored["id"]) == event.event_id and stored["org_id"] == acme.org_id
    assert (stored["direction"], stored["kind"], stored["text"], stored["status"]) == ("inbound", "text", "hello 0", "pending")
    assert stored["external_id"] == "e0" and stored["seq"] is None
    assert stored["body"]["type"] == "inboundtext" and stored["body"]["text"] == "hello 0"
    # created_at is the event's ts to the microsecond: later updates find the row's partition by it.
    assert stored["ts"] == pytest.approx(event.ts, abs=1e-6)


async def test_a_message_for_a_missing_conversation_is_refused_and_nothing_lands(database_url: str) -> None:
    acme, _ = await _tenants(database_url)
    pool = await create_app_pool(database_url, size=1)
    try:
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="1 of 2 conversations"):
            await _insert(pool, acme, acme.conversation_id, uuid.uuid4())
        async with pool.acquire() as con, con.transaction():
            await act_for(con, acme.org_id)
            assert await con.fetchval("SELECT count(*) FROM messages") == 0
    finally:
        await pool.close()


async def test_a_message_cannot_name_another_organizations_conversation(database_url: str) -> None:
    acme, globex = await _tenants(database_url)
    pool = await create_app_pool(database_url, size=1)
    try:
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await _insert(pool, acme, globex.conversation_id)
    finally:
        await pool.close()


async def test_deleting_a_conversation_deletes_its_messages_only(database_url: str) -> None:
    acme, globex = await _tenants(database_url)
    pool = await create_app_pool(database_url, size=1)
    try:
        await _insert(pool, acme, acme.conversation_id, acme.conversation_id)
        await _insert(pool, globex, globex.conversation_id)
        async with pool.acquire() as con, con.transaction():
            await act_for(con, acme.org_id)
            await con.execute("DELETE FROM conversations WHERE id = $1", acme.conversation_id)
    finally:
        await pool.close()
    owner = await asyncpg.connect(database_url)
    try:
        left = await owner.fetch("SELECT conversation_id FROM messages")
    finally:
        await owner.close()
    assert [r["conversation_id"] for r in left] == [globex.conversation_id]


async def test_a_message_cannot_move_to_another_conversation(database_url: str) -> None:
    acme, _ = await _tenants(database_url)
    owner = await asyncpg.connect(database_url)
    try:
        other = await owner.fetchval(
            "INSERT INTO conversations (org_id, bot_id, channel_id, end_user_id) VALUES ($1, $2, $3, $4) RETURNING id",
            acme.org_id, acme.bot_id, acme.channel_id, acme.end_user_id,
        )
    finally:
        await owner.close()
    pool = await create_app_pool(database_url, size=1)
    try:
        await _insert(pool, acme, acme.conversation_id)
        async with pool.acquire() as con, con.transaction():
            await act_for(con, acme.org_id)
            # Status updates, the common case, do not touch the trigger.
            assert await con.execute("UPDATE messages SET status = 'processed'") == "UPDATE 1"
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="cannot move"):
            async with pool.acquire() as con, con.transaction():
                await act_for(con, acme.org_id)
                await con.execute("UPDATE messages SET conversation_id = $1", other)
    finally:
        await pool.close()


async def test_a_conversation_being_written_to_cannot_be_deleted_under_the_insert(database_url: str) -> None:
    """The inserted conversation is locked FOR KEY SHARE until commit: a delete waits for it."""
    acme, _ = await _tenants(database_url)
    pool = await create_app_pool(database_url, size=2)
    async with pool.acquire() as writer, pool.acquire() as deleter:
        inserting = writer.transaction()
        await inserting.start()
        await act_for(writer, acme.org_id)
        await insert_messages(writer, str(acme.org_id), _rows(acme.org_id, acme.conversation_id))

        async def delete() -> str:
            async with deleter.transaction():
                await act_for(deleter, acme.org_id)
                return str(await deleter.execute("DELETE FROM conversations WHERE id = $1", acme.conversation_id))

        deleting = asyncio.create_task(delete())
        await asyncio.sleep(0.3)
        assert not deleting.done(), "the delete should wait for the inserting transaction"
        await inserting.commit()
        assert await asyncio.wait_for(deleting, 10) == "DELETE 1"
        async with writer.transaction():
            await act_for(writer, acme.org_id)
            # The delete ran after the insert committed, and cascaded to the new message.
            assert await writer.fetchval("SELECT count(*) FROM messages") == 0
    await pool.close()
