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
from storage.tenancy import act_for, per_org

_OUTBOUND: Final = OutboundText | OutboundMedia


@final
class PgContactDirectory:
    """ContactDirectory port, with an LRU so a busy sender costs no round trip."""

    def __init__(self, pool: asyncpg.Pool, *, cache_size: int = 100_000) -> None:
        self._pool = pool
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._cache_size = cache_size

    async def open_conversation(self, channel: ChannelRef, sender: str, sender_name: str | None) -> str:
        key = (channel.channel_id, sender)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        async with self._pool.acquire() as con, con.transaction():
            await act_for(con, channel.org_id)
            await con.execute(QUERIES["contacts/lock_sender"], channel.channel_id, sender)
            conversation_id = str(
                await con.fetchval(
                    QUERIES["contacts/open_conversation"],
                    channel.org_id,
                    channel.channel_id,
                    channel.bot_id,
                    sender,
                    sender_name,
                )
            )
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
    async for _org_id, group in per_org(con, items, lambda item: item.message.org_id):
        await con.execute(
            QUERIES["messages/mark_sent"],
            [i.message.event_id for i in group],
            [i.message.ts for i in group],
            [i.provider_id for i in group],
            [i.note for i in group],
        )
    return [None] * len(items)


@final
class PgOutboxStore:
    """OutboxStore port: sent (group commit), failed, pending after restart, last inbound."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 256, linger: float = 0.001) -> None:
        self._pool = pool
        self._sent: GroupCommitter[_Sent, None] = GroupCommitter(
            pool=pool, flush=_flush_sent, name="outbox", max_batch=max_batch, linger=linger
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
