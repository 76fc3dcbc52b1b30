"""Registers bot definitions: organization, bot and channel rows, created or updated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec

from storage.errors import ChannelSlugTaken
from storage.queries import QUERIES
from storage.tenancy import act_for


class ChannelSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A channel as a bot file declares it (config without resolved secrets)."""

    kind: str
    slug: str
    config: dict[str, Any]


class SyncedBot(msgspec.Struct, frozen=True, kw_only=True):
    """Ids of a bot's rows after registration; channel ids in the order given."""

    org_id: str
    bot_id: str
    channel_ids: tuple[str, ...]


async def sync_bot(
    con: asyncpg.Connection,
    *,
    org_slug: str,
    bot_slug: str,
    name: str,
    definition: dict[str, Any],
    channels: Sequence[ChannelSpec],
) -> SyncedBot:
    """Upserts the bot's organization, bot and channels in one transaction (as the owner)."""
    async with con.transaction():
        org_id = await con.fetchval(QUERIES["bots/upsert_organization"], org_slug, org_slug)
        await act_for(con, str(org_id))
        bot_id = await con.fetchval(QUERIES["bots/upsert_bot"], org_id, bot_slug, name, definition)
        channel_ids = []
        for channel in channels:
            channel_id = await con.fetchval(
                QUERIES["bots/upsert_channel"], org_id, bot_id, channel.kind, channel.slug, channel.config
            )
            if channel_id is None:
                raise ChannelSlugTaken(channel.slug)
            channel_ids.append(str(channel_id))
    return SyncedBot(org_id=str(org_id), bot_id=str(bot_id), channel_ids=tuple(channel_ids))
