"""Rows the schema tests build on: tenants with a bot, a channel, a contact and a conversation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import msgspec

_SEED = """
WITH o AS (
    INSERT INTO organizations (slug, name) VALUES ($1, $1) RETURNING id
), b AS (
    INSERT INTO bots (org_id, slug, name) SELECT id, 'bot', 'Bot' FROM o RETURNING id, org_id
), ch AS (
    INSERT INTO bot_channels (org_id, bot_id, kind, slug)
    SELECT org_id, id, 'webchat', $1 || '-web' FROM b RETURNING id, org_id, bot_id
), u AS (
    INSERT INTO end_users (org_id, channel_id, external_id)
    SELECT org_id, id, 'visitor-1' FROM ch RETURNING id, org_id, channel_id
), c AS (
    INSERT INTO conversations (org_id, bot_id, channel_id, end_user_id)
    SELECT u.org_id, ch.bot_id, ch.id, u.id FROM u JOIN ch ON ch.id = u.channel_id RETURNING id
)
SELECT o.id AS org_id, b.id AS bot_id, ch.id AS channel_id, u.id AS end_user_id, c.id AS conversation_id
  FROM o, b, ch, u, c
"""


class Tenant(msgspec.Struct, frozen=True, kw_only=True):
    """The ids of one seeded organization's rows."""

    org_id: uuid.UUID
    bot_id: uuid.UUID
    channel_id: uuid.UUID
    end_user_id: uuid.UUID
    conversation_id: uuid.UUID


async def seed_tenant(con: asyncpg.Connection, slug: str) -> Tenant:
    """An organization with one bot, webchat channel, contact and conversation (as superuser)."""
    row = await con.fetchrow(_SEED, slug)
    assert row is not None
    return Tenant(**dict(row))


@asynccontextmanager
async def app_connection(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection acting as the runtime does: SET ROLE botrt_app, under row-level security."""
    con = await asyncpg.connect(database_url)
    try:
        await con.execute("SET ROLE botrt_app")
        yield con
    finally:
        await con.close()


async def act_for(con: asyncpg.Connection, org_id: uuid.UUID) -> None:
    """Acts for org_id until the end of the current transaction, as storage does."""
    await con.execute("SELECT set_config('botrt.org_id', $1::text, true)", str(org_id))
