"""Writers that run their batches outside a transaction (for_each_org) stay all-or-nothing."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg

from runtime.events import Inbound, InboundText
from runtime.ids import new_id
from storage.conversations import PgInbox
from storage.pool import create_app_pool
from tests.storage.schema_seed import Tenant, seed_tenant


def _text(tenant: Tenant, external_id: str, *, conversation_id: uuid.UUID | None = None) -> Inbound:
    return InboundText(
        event_id=new_id(), org_id=str(tenant.org_id), conversation_id=str(conversation_id or tenant.conversation_id),
        channel_id=str(tenant.channel_id), channel_kind="webchat", ts=time.time(), external_id=external_id, text="hi",
    )


async def _two_tenants(database_url: str) -> tuple[Tenant, Tenant]:
    owner = await asyncpg.connect(database_url)
    try:
        return await seed_tenant(owner, "acme"), await seed_tenant(owner, "globex")
    finally:
        await owner.close()


async def _count(database_url: str) -> int:
    owner = await asyncpg.connect(database_url)
    try:
        return int(await owner.fetchval("SELECT count(*) FROM messages"))
    finally:
        await owner.close()


async def test_one_batch_for_two_organizations_commits_both_and_dedupes(database_url: str) -> None:
    acme, globex = await _two_tenants(database_url)
    pool = await create_app_pool(database_url, size=2)
    inbox = PgInbox(pool, linger=0.01)
    inbox.start()
    try:
        # Submitted together, so they share one batch that spans both organizations.
        first = await asyncio.gather(
            inbox.accept(_text(acme, "a1")), inbox.accept(_text(globex, "g1")), inbox.accept(_text(acme, "a1"))
        )
        again = await asyncio.gather(inbox.accept(_text(acme, "a1")), inbox.accept(_text(globex, "g1")))
    finally:
        await inbox.stop()
        await pool.close()
    assert sorted(first) == [False, True, True]  # the second a1 in the batch is a duplicate
    assert again == [False, False]
    assert await _count(database_url) == 2


async def test_a_failing_organization_rolls_back_the_whole_batch(database_url: str) -> None:
    acme, globex = await _two_tenants(database_url)
    pool = await create_app_pool(database_url, size=2)
    inbox = PgInbox(pool, linger=0.01)
    inbox.start()
    try:
        results = await asyncio.gather(
            inbox.accept(_text(acme, "a1")),
            # No such conversation: this organization's statement fails.
            inbox.accept(_text(globex, "g1", conversation_id=uuid.uuid4())),
            return_exceptions=True,
        )
        assert all(isinstance(r, asyncpg.ForeignKeyViolationError) for r in results), results
        assert await _count(database_url) == 0
        # Nothing was claimed either: the platform's retry is accepted, not taken for a duplicate.
        assert await inbox.accept(_text(acme, "a1")) is True
    finally:
        await inbox.stop()
        await pool.close()
    assert await _count(database_url) == 1
