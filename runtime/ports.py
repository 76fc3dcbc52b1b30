"""The ports through which the pipeline and adapters reach storage and the engine.

runtime defines them; storage and engine implement them; botrt plugs the two together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

from runtime.events import (
    ConversationStarted,
    Inbound,
    InboundMedia,
    InboundMessage,
    Outbound,
    OutboundMessage,
)
from runtime.hooks import HookContext


class ChannelRef(msgspec.Struct, frozen=True, kw_only=True):
    """A configured channel as adapters and the pipeline see it."""

    channel_id: str
    org_id: str
    bot_id: str
    bot_slug: str
    kind: str
    slug: str
    config: dict[str, Any] = msgspec.field(default_factory=dict)


class ConversationSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation between turns: who, where, engine state and the last server seq."""

    conversation_id: str
    org_id: str
    bot_id: str
    channel_id: str
    channel_kind: str
    status: str
    state: dict[str, Any]
    last_seq: int
    # The contact's platform address (chat id, phone number, widget session).
    recipient: str = ""


class TurnRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one turn changes, committed atomically: new state, outbound, inbound done."""

    conversation: ConversationSnapshot
    inbound: InboundMessage | None
    outbound: tuple[OutboundMessage, ...]
    # A voice note's transcript, stored with the inbound message.
    transcript: str | None = None
    # Handoff bookkeeping: a new request (who asked, why), or how an open one ended.
    handoff_requested: tuple[str, str | None] | None = None
    handoff_closed: str | None = None  # returned | resolved | abandoned


class EngineResult(msgspec.Struct, frozen=True, kw_only=True):
    """What the engine decided for a turn; status "handoff" asks for a human."""

    state: dict[str, Any]
    messages: tuple[OutboundMessage, ...]
    status: str = "active"
    handoff_reason: str | None = None


class SessionOpened(msgspec.Struct, frozen=True, kw_only=True):
    """A widget session resolved to its conversation."""

    session: str
    conversation_id: str
    is_new: bool


class ConversationStore(Protocol):
    """Conversation state and turn commits (storage implements it)."""

    async def load(self, org_id: str, conversation_id: str) -> ConversationSnapshot | None: ...

    async def commit_turn(self, turn: TurnRecord) -> None: ...

    async def pending_inbound(self, org_id: str, limit: int, min_age: float = 0.0) -> Sequence[InboundMessage]:
        """Accepted messages of an org whose turn never committed, at least min_age s old."""
        ...


class Inbox(Protocol):
    """Durable acceptance of inbound messages, deduplicated per channel and external id."""

    async def accept(self, event: Inbound) -> bool:
        """Commits the event; False when it was a redelivery already accepted."""
        ...


class WebchatStore(Protocol):
    """Widget sessions and history replay."""

    async def open_session(self, channel: ChannelRef, session: str | None) -> SessionOpened: ...

    async def history(
        self, channel: ChannelRef, conversation_id: str, after_seq: int, limit: int
    ) -> Sequence[OutboundMessage]: ...


class ContactDirectory(Protocol):
    """Finds (or opens) the conversation of a platform sender on a channel."""

    async def open_conversation(self, channel: ChannelRef, sender: str, sender_name: str | None) -> str: ...


class TurnEngine(Protocol):
    """Decides the bot's answer for one event of a conversation."""

    async def step(
        self,
        snapshot: ConversationSnapshot,
        event: InboundMessage | ConversationStarted,
        ctx: HookContext,
    ) -> EngineResult: ...

    def bot_slug(self, bot_id: str) -> str: ...


class Transcriber(Protocol):
    """Turns a voice note into text (None when it cannot: no audio, unsupported channel)."""

    async def transcribe(self, event: InboundMedia) -> str | None: ...


class HandoffDesk(Protocol):
    """Where handed-off conversations surface for human agents (the live-agent console)."""

    async def requested(self, snapshot: ConversationSnapshot, reason: str | None, by: str) -> None: ...

    async def user_message(self, snapshot: ConversationSnapshot, event: InboundMessage, text: str) -> None: ...

    async def returned(self, snapshot: ConversationSnapshot, agent: str) -> None: ...

    async def ended(self, snapshot: ConversationSnapshot) -> None: ...


class Delivery(Protocol):
    """Hands a committed outbound event to the adapter of its channel."""

    async def deliver(self, event: Outbound) -> None: ...
