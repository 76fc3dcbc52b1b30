"""First contact: a burst of new senders opens exactly one conversation each, in batches."""

from __future__ import annotations

import asyncio
import random

import asyncpg

from runtime.ports import ChannelRef
from storage.delivery import PgContactDirectory
from storage.pool import create_app_pool
from tests.storage.schema_seed import seed_tenant


async def test_concurrent_first_contacts_open_one_conversation_per_sender(database_url: str) -> None:
    owner = await asyncpg.connect(database_url)
    try:
        tenant = await seed_tenant(owner, "acme")
        existing = await owner.fetchval("SELECT count(*) FROM conversations")
    finally:
        await owner.close()
    channel = ChannelRef(
        channel_id=str(tenant.channel_id), org_id=str(tenant.org_id), bot_id=str(tenant.bot_id),
        bot_slug="bot", kind="webchat", slug="acme-web",
    )
    pool = await create_app_pool(database_url, size=4)
    # Two directories on one database: two processes, each with its own cache and writer.
    first, second = PgContactDirectory(pool), PgContactDirectory(pool)
    first.start()
    second.start()
    try:
        senders = [f"user-{n}" for n in range(40)] * 3  # every sender three times at once
        random.Random(7).shuffle(senders)
        opened = await asyncio.gather(
            *((first if i % 2 else second).open_conversation(channel, s, f"User {s}") for i, s in enumerate(senders))
        )
        by_sender: dict[str, set[str]] = {}
        for sender, conversation in zip(senders, opened, strict=True):
            by_sender.setdefault(sender, set()).add(conversation)
        assert all(len(ids) == 1 for ids in by_sender.values()), by_sender
        assert len({next(iter(ids)) for ids in by_sender.values()}) == 40
        # A known sender gets the same conversation again, from the database (not a cache).
        third = PgContactDirectory(pool)
        third.start()
        again = await third.open_conversation(channel, "user-3", None)
        await third.stop()
        assert again == next(iter(by_sender["user-3"]))
    finally:
        await first.stop()
        await second.stop()
        await pool.close()
    owner = await asyncpg.connect(database_url)
    try:
        assert await owner.fetchval("SELECT count(*) FROM conversations") == existing + 40
        assert await owner.fetchval("SELECT count(*) FROM end_users WHERE external_id LIKE 'user-%'") == 40
        assert await owner.fetchval("SELECT display_name FROM end_users WHERE external_id = 'user-3'") == "User user-3"
    finally:
        await owner.close()
