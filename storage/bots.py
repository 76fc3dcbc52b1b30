"""Registers bot definitions: organization, bot and channel rows, created or updated."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec

from storage.errors import ChannelSlugTaken
from storage.queries import QUERIES
from storage.secrets import SecretBox, SecretUnreadable
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


def credential_label(channel_id: str, name: str) -> str:
    """The associated data a channel secret is sealed with: it cannot move to another row."""
    return f"channel_credentials/{channel_id}/{name}"


async def store_channel_secrets(
    con: asyncpg.Connection, box: SecretBox, *, org_id: str, channel_id: str, secrets: dict[str, str]
) -> int:
    """Seals and stores a channel's secrets; only changed values are rewritten. Returns how many."""
    written = 0
    async with con.transaction():
        await act_for(con, org_id)
        existing = {r["name"]: bytes(r["ciphertext"]) for r in await con.fetch(QUERIES["bots/select_credentials"], channel_id)}
        for name, value in secrets.items():
            label = credential_label(channel_id, name)
            if name in existing:
                try:
                    if box.open(existing[name], label) == value:
                        continue
                except SecretUnreadable:
                    pass  # sealed under another key: replace it
            await con.execute(QUERIES["bots/upsert_credential"], org_id, channel_id, name, box.seal(value, label))
            written += 1
    return written


class FlowVersion(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    graph: dict[str, Any]


async def publish_flow(
    con: asyncpg.Connection, *, org_id: str, bot_id: str, graph: dict[str, Any], source: str
) -> tuple[int, list[FlowVersion]]:
    """Stores the flow as a new published version unless unchanged; returns (current, older)."""
    checksum = hashlib.sha256(msgspec.json.encode(graph, order="sorted")).digest()
    async with con.transaction():
        await act_for(con, org_id)
        rows = await con.fetch(QUERIES["bots/select_flow_versions"], bot_id)
        stored = [FlowVersion(version=r["version"], graph=r["graph"]) for r in rows]
        if rows and bytes(rows[-1]["checksum"] or b"") == checksum:
            return rows[-1]["version"], stored[:-1]
        version = (rows[-1]["version"] + 1) if rows else 1
        await con.execute(QUERIES["bots/archive_published_flow"], bot_id)
        await con.execute(QUERIES["bots/publish_flow_version"], org_id, bot_id, version, graph, checksum, source)
    return version, stored
