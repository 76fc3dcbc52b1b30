"""The runtime's storage ports on PostgreSQL: inbox, conversation store, widget sessions."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, Final, final

import asyncpg
import msgspec

from runtime.events import (
    Inbound,
    InboundLocation,
    InboundMedia,
    InboundMessage,
    InboundPostback,
    InboundStatus,
    InboundText,
    OutboundMedia,
    OutboundMessage,
    OutboundText,
)
from runtime.ports import ChannelRef, ConversationSnapshot, SessionOpened, TurnRecord
from storage.batch import GroupCommitter
from storage.queries import QUERIES
from storage.tenancy import act_for, for_each_org

# Channels whose outbound rows are delivered by the client reading them (widget replay), so
# the row itself is the delivery; the others wait in the outbox as pending.
_PULL_CHANNELS: Final = frozenset({"webchat"})

_KIND: Final[dict[type, str]] = {
    InboundText: "text",
    InboundMedia: "media",
    InboundPostback: "postback",
    InboundLocation: "location",
    InboundStatus: "status",
    OutboundText: "text",
    OutboundMedia: "media",
}


def message_row(event: Inbound | OutboundMessage, *, direction: str, status: str) -> tuple[Any, ...]:
    """One messages row, as the columns of messages/insert_messages after org_id."""
    text = getattr(event, "text", None)
    if isinstance(event, InboundPostback):
        text = event.title or event.payload
    elif isinstance(event, InboundStatus):
        text = event.status
    elif isinstance(event, InboundLocation):
        text = event.name or f"{event.latitude},{event.longitude}"
    return (
        event.event_id,
        event.conversation_id,
        direction,
        getattr(event, "seq", None) if direction == "outbound" else None,
        getattr(event, "external_id", None),
        _KIND[type(event)],
        text,
        event,  # the body: the jsonb codec encodes the Struct as it is
        status,
        event.ts,
    )


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """message_row's ten columns, each a list the pool's jsonb codec encodes in one call."""
    if not rows:
        return [[] for _ in range(10)]
    return [list(column) for column in zip(*rows, strict=True)]


async def insert_messages(con: asyncpg.Connection, org_id: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Inserts one organization's message rows (see message_row) in one statement.

    Each column travels as one jsonb array, encoded in a single msgspec call (why:
    sql/schema/104_turn_commit.sql). The caller's transaction must act for org_id.
    """
    if rows:
        await con.execute(QUERIES["messages/insert_messages"], org_id, *_columns(rows))


async def _flush_inbound(con: asyncpg.Connection, events: Sequence[Inbound]) -> Sequence[bool]:
    """Claims dedupe keys and stores the new messages; True per event that was new.

    Statuses are stored already processed and applied to the message they refer to. Runs on a
    bare connection (see for_each_org): a batch of one organization, the common case, is one
    statement that commits by itself, so the webhook's ack waits for one round trip.
    """
    accepted = [False] * len(events)

    async def accept(org_id: str, indexes: list[int]) -> None:
        await _accept_group(con, events, org_id, indexes, accepted)

    await for_each_org(con, range(len(events)), lambda i: events[i].org_id, accept)
    return accepted


async def _accept_group(
    con: asyncpg.Connection, events: Sequence[Inbound], org_id: str, indexes: list[int], accepted: list[bool]
) -> None:
    first: dict[tuple[str, str], int] = {}
    for i in indexes:
        first.setdefault((events[i].channel_id, events[i].external_id), i)
    batch = [events[i] for i in first.values()]
    rows = [
        message_row(e, direction="inbound", status="processed" if isinstance(e, InboundStatus) else "pending")
        for e in batch
    ]
    # message_row's columns: id, conversation_id, direction, seq, external_id, kind, text, body, status, ts.
    columns = _columns(rows)
    claimed = await con.fetch(
        QUERIES["messages/accept_inbound"],
        org_id,
        [e.channel_id for e in batch],
        [e.external_id for e in batch],
        columns[0],
        columns[1],
        columns[5],
        columns[6],
        columns[7],
        columns[8],
        columns[9],
        [e.ref_id or None if isinstance(e, InboundStatus) else None for e in batch],
        [e.status if isinstance(e, InboundStatus) else None for e in batch],
    )
    for row in claimed:
        accepted[first[(str(row["channel_id"]), row["external_id"])]] = True


async def _flush_turns(con: asyncpg.Connection, turns: Sequence[TurnRecord]) -> Sequence[None]:
    """Commits turns: conversation state, outbound messages, inbound marked processed.

    Runs on a bare connection (see for_each_org): one organization's turns are one statement,
    botrt_commit_turns. Handoffs, rare, take statements of their own, so a batch with any runs
    inside one transaction.
    """

    async def commit(org_id: str, group: list[TurnRecord]) -> None:
        latest = {t.conversation.conversation_id: t.conversation for t in group}
        done = [(t.inbound, t.transcript) for t in group if t.inbound is not None]
        rows = [
            message_row(m, direction="outbound", status="sent" if m.channel_kind in _PULL_CHANNELS else "pending")
            for t in group
            for m in t.outbound
        ]
        columns = _columns(rows)
        await con.execute(
            QUERIES["conversations/commit_turns"],
            org_id,
            list(latest),
            [c.state for c in latest.values()],
            [c.last_seq for c in latest.values()],
            [c.status for c in latest.values()],
            [inbound.event_id for inbound, _ in done],
            [inbound.ts for inbound, _ in done],
            [transcript for _, transcript in done],
            *columns,
        )
        requested = [t for t in group if t.handoff_requested is not None]
        if requested:
            await con.execute(
                QUERIES["handoffs/insert_requested"],
                [t.conversation.org_id for t in requested],
                [t.conversation.conversation_id for t in requested],
                [t.handoff_requested[0] for t in requested],  # type: ignore[index]
                [t.handoff_requested[1] for t in requested],  # type: ignore[index]
            )
        closed = [t for t in group if t.handoff_closed is not None]
        if closed:
            await con.execute(
                QUERIES["handoffs/close_open"],
                [t.conversation.conversation_id for t in closed],
                [t.handoff_closed for t in closed],
            )

    handoffs = any(t.handoff_requested is not None or t.handoff_closed is not None for t in turns)
    await for_each_org(con, turns, lambda t: t.conversation.org_id, commit, atomic=handoffs)
    return [None] * len(turns)


async def _load_snapshots(
    con: asyncpg.Connection, keys: Sequence[tuple[str, str]]
) -> Sequence[ConversationSnapshot | None]:
    """The snapshots of (org_id, conversation_id) keys: one self-committing statement per
    organization (botrt_select_snapshots), on a bare connection."""
    found: dict[str, ConversationSnapshot] = {}

    async def read(org_id: str, group: list[tuple[str, str]]) -> None:
        rows = await con.fetch(QUERIES["conversations/select_snapshots"], org_id, [key[1] for key in group])
        for row in rows:
            found[str(row["id"])] = ConversationSnapshot(
                conversation_id=str(row["id"]),
                org_id=str(row["org_id"]),
                bot_id=str(row["bot_id"]),
                channel_id=str(row["channel_id"]),
                channel_kind=row["channel_kind"],
                status=row["status"],
                state=row["state"],
                last_seq=row["last_seq"],
                recipient=row["recipient"],
            )

    await for_each_org(con, keys, lambda key: key[0], read)
    return [found.get(key[1]) for key in keys]


_INBOUND_DECODE: Final = InboundText | InboundMedia | InboundPostback | InboundLocation
_OUTBOUND_DECODE: Final = OutboundText | OutboundMedia


@final
class PgInbox:
    """Inbox port: durable, deduplicated acceptance through group commit."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 256, linger: float = 0.001) -> None:
        self._writer: GroupCommitter[Inbound, bool] = GroupCommitter(
            pool=pool, flush=_flush_inbound, name="inbox", max_batch=max_batch, linger=linger, transaction=False
        )

    def start(self) -> None:
        self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()

    async def accept(self, event: Inbound) -> bool:
        return await self._writer.submit(event)


@final
class PgConversationStore:
    """ConversationStore port: snapshots, turn commits (group commit), pending recovery."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 256, linger: float = 0.001) -> None:
        self._pool = pool
        self._writer: GroupCommitter[TurnRecord, None] = GroupCommitter(
            pool=pool, flush=_flush_turns, name="turns", max_batch=max_batch, linger=linger, transaction=False
        )
        # Snapshot reads batch the same way: a burst of new conversations (every first message
        # misses the pipeline's cache) costs a few queries, not a transaction each.
        self._reader: GroupCommitter[tuple[str, str], ConversationSnapshot | None] = GroupCommitter(
            pool=pool, flush=_load_snapshots, name="snapshots", max_batch=max_batch, linger=linger, transaction=False
        )

    def start(self) -> None:
        self._writer.start()
        self._reader.start()

    async def stop(self) -> None:
        await self._writer.stop()
        await self._reader.stop()

    async def load(self, org_id: str, conversation_id: str) -> ConversationSnapshot | None:
        return await self._reader.submit((org_id, conversation_id))

    async def commit_turn(self, turn: TurnRecord) -> None:
        await self._writer.submit(turn)

    async def pending_inbound(self, org_id: str, limit: int, min_age: float = 0.0) -> Sequence[InboundMessage]:
        async with self._pool.acquire() as con, con.transaction():
            await act_for(con, org_id)
            rows = await con.fetch(QUERIES["messages/select_pending_inbound"], limit, min_age)
        return [msgspec.convert(r["body"], _INBOUND_DECODE) for r in rows]


@final
class PgWebchatStore:
    """WebchatStore port: sessions (contact + conversation) and outbound replay."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def open_session(self, channel: ChannelRef, session: str | None) -> SessionOpened:
        async with self._pool.acquire() as con, con.transaction():
            await act_for(con, channel.org_id)
            if session:
                row = await con.fetchrow(QUERIES["webchat/select_session"], channel.channel_id, session)
                if row is not None and row["status"] != "ended":
                    return SessionOpened(session=session, conversation_id=str(row["id"]), is_new=False)
            # Unknown, missing or ended: a fresh session id the client cannot choose or guess.
            new_session = secrets.token_urlsafe(18)
            conversation_id = await con.fetchval(
                QUERIES["webchat/insert_session"],
                channel.org_id,
                channel.channel_id,
                channel.bot_id,
                new_session,
            )
        return SessionOpened(session=new_session, conversation_id=str(conversation_id), is_new=True)

    async def history(
        self, channel: ChannelRef, conversation_id: str, after_seq: int, limit: int
    ) -> Sequence[OutboundMessage]:
        async with self._pool.acquire() as con, con.transaction():
            await act_for(con, channel.org_id)
            rows = await con.fetch(QUERIES["messages/select_outbound_after"], conversation_id, after_seq, limit)
        return [msgspec.convert(r["body"], _OUTBOUND_DECODE) for r in rows]
