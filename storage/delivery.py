"""Storage ports of the platform channels: contacts, and the outbox's state on message rows."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Final, final

import asyncpg
import msgspec

from runtime.events import OutboundMedia, OutboundMessage, OutboundText
from runtime.ports import ChannelRef
from storage.batch import GroupCommitter
from storage.queries import QUERIES
from storage.tenancy import act_for, for_each_org

_OUTBOUND: Final = OutboundText | OutboundMedia


class _Contact(msgspec.Struct, frozen=True):
    channel: ChannelRef
    sender: str
    sender_name: str | None


async def _flush_contacts(con: asyncpg.Connection, contacts: Sequence[_Contact]) -> Sequence[str]:
    """Opens (or finds) the conversation of every sender in the batch: one self-committing
    statement per organization (botrt_open_conversations), on a bare connection."""
    found: dict[tuple[str, str], str] = {}

    async def open_group(org_id: str, group: list[_Contact]) -> None:
        distinct = {(c.channel.channel_id, c.sender): c for c in group}
        rows = await con.fetch(
            QUERIES["contacts/open_conversations"],
            org_id,
            [c.channel.channel_id for c in distinct.values()],
            [c.channel.bot_id for c in distinct.values()],
            [c.sender for c in distinct.values()],
            [c.sender_name for c in distinct.values()],
        )
        for row in rows:
            found[(str(row["channel_id"]), row["sender"])] = str(row["conversation_id"])

    await for_each_org(con, contacts, lambda c: c.channel.org_id, open_group)
    return [found[(c.channel.channel_id, c.sender)] for c in contacts]


@final
class PgContactDirectory:
    """ContactDirectory port, with an LRU so a busy sender costs no round trip.

    First contacts go through a group commit: a burst of new senders (a campaign's replies, a
    load test's first second) opens its conversations in a few transactions, not one each.
    """

    def __init__(
        self, pool: asyncpg.Pool, *, cache_size: int = 100_000, max_batch: int = 256, linger: float = 0.001
    ) -> None:
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._cache_size = cache_size
        self._writer: GroupCommitter[_Contact, str] = GroupCommitter(
            pool=pool, flush=_flush_contacts, name="contacts", max_batch=max_batch, linger=linger, transaction=False
        )

    def start(self) -> None:
        self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()

    async def open_conversation(self, channel: ChannelRef, sender: str, sender_name: str | None) -> str:
        key = (channel.channel_id, sender)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        conversation_id = await self._writer.submit(_Contact(channel, sender, sender_name))
        self._cache[key] = conversation_id
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return conversation_id

    def forget(self, channel_id: str, sender: str) -> None:
        """Drops a cached conversation (it ended; the next message opens a new one)."""
        self._cache.pop((channel_id, sender), None)


class _Sent(msgspec.Struct, frozen=True):
    message: OutboundText | OutboundMedia
    provider_id: str | None
    note: str | None


async def _flush_sent(con: asyncpg.Connection, items: Sequence[_Sent]) -> Sequence[None]:
    """Records sends; runs outside a transaction (see for_each_org): one org, one statement."""

    async def mark(org_id: str, group: list[_Sent]) -> None:
        await con.execute(
            QUERIES["messages/mark_sent"],
            org_id,
            [i.message.event_id for i in group],
            [i.message.ts for i in group],
            [i.provider_id for i in group],
            [i.note for i in group],
        )

    await for_each_org(con, items, lambda item: item.message.org_id, mark)
    return [None] * len(items)


@final
class PgOutboxStore:
    """OutboxStore port: sent (group commit), failed, pending after restart, last inbound."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 256, linger: float = 0.001) -> None:
        self._pool = pool
        self._sent: GroupCommitter[_Sent, None] = GroupCommitter(
            pool=pool, flush=_flush_sent, name="outbox", max_batch=max_batch, linger=linger, transaction=False
        )

    def start(self) -> None:
        self._sent.start()

    async def stop(self) -> None:
        await self._sent.stop()

    async def mark_sent(self, message: OutboundMessage, provider_ids: Sequence[str], note: str | None) -> None:
        # A long text split in several platform messages: the first id stands for the row.
        await self._sent.submit(_Sent(message, provider_ids[0] if provider_ids else None, note))

    async def mark_failed(self, message: OutboundMessage, reason: str) -> None:
        """Dead letter: the row is marked failed and the audit trail records it, in one commit."""
        async with self._pool.acquire() as con, con.transaction():
            await act_for(con, message.org_id)
            await con.execute(QUERIES["messages/mark_failed"], message.event_id, message.ts, reason)
            await con.execute(
                QUERIES["audit/insert_event"],
                message.org_id,
                "system",
                "outbox",
                "outbox.dead_lettered",
                "message",
                message.event_id,
                {"reason": reason, "channel": message.channel_kind, "conversation_id": message.conversation_id},
            )

    async def pending_outbound(self, org_id: str, limit: int) -> Sequence[OutboundMessage]:
        async with self._pool.acquire() as con, con.transaction():
            await act_for(con, org_id)
            rows = await con.fetch(QUERIES["messages/select_pending_outbound"], limit)
        return [msgspec.convert(r["body"], _OUTBOUND) for r in rows]

    async def last_inbound_at(self, org_id: str, conversation_id: str) -> float | None:
        async with self._pool.acquire() as con, con.transaction():
            await act_for(con, org_id)
            value = await con.fetchval(QUERIES["messages/select_last_inbound_at"], conversation_id)
        return None if value is None else float(value)
