"""The event vocabulary: frozen msgspec Structs in tagged unions.

Inbound events come from adapters; outbound events come from the engine. Every event names
its conversation so the bus can keep per-conversation order.
"""

from __future__ import annotations

from typing import ClassVar, Final

import msgspec


class Button(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A quick reply: what the user sees and what comes back when pressed."""

    title: str
    payload: str


class Media(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A piece of media by reference; bytes never travel on the bus."""

    kind: str  # image | audio | video | document | sticker
    url: str | None = None
    provider_id: str | None = None
    mime_type: str | None = None
    caption: str | None = None


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=str.lower):
    """Common fields of every event."""

    # Lower runs first within a lane's backlog; control events jump the queue.
    priority: ClassVar[int] = 20
    # For inbound and outbound messages, event_id is also the message row's id and ts its
    # created_at (seconds since the epoch), so a row can be found in its monthly partition.
    event_id: str
    org_id: str
    conversation_id: str
    channel_id: str
    channel_kind: str
    ts: float


# ---- inbound -------------------------------------------------------------------------------


class InboundText(Event, frozen=True, gc=False):
    """A user typed text (or edited an earlier message: edit_of names it)."""

    external_id: str
    text: str
    edit_of: str | None = None


class InboundMedia(Event, frozen=True, gc=False):
    """A user sent media (image, voice note, document)."""

    external_id: str
    media: Media
    text: str | None = None


class InboundPostback(Event, frozen=True, gc=False):
    """A user pressed a button or quick reply."""

    external_id: str
    payload: str
    title: str | None = None


class InboundLocation(Event, frozen=True, gc=False):
    """A user shared a location."""

    external_id: str
    latitude: float
    longitude: float
    name: str | None = None


class InboundStatus(Event, frozen=True, gc=False):
    """A platform reports delivery or read of an outbound message."""

    external_id: str
    status: str  # sent | delivered | read | failed
    # The platform's id of the outbound message this status is about.
    ref_id: str = ""


class ConversationStarted(Event, frozen=True, gc=False):
    """A new conversation opened; the engine may greet."""

    priority: ClassVar[int] = 10


class AgentReply(Event, frozen=True, gc=False):
    """A human agent's message for the user of a handed-off conversation."""

    priority: ClassVar[int] = 10
    text: str
    agent: str


class HandoffChange(Event, frozen=True, gc=False):
    """An operator takes a conversation over (action "take") or hands it back ("return")."""

    priority: ClassVar[int] = 10
    action: str  # take | return
    agent: str
    reason: str | None = None


class ConversationTimeout(Event, frozen=True, gc=False):
    """The conversation was idle too long and ends."""

    priority: ClassVar[int] = 10


Inbound = InboundText | InboundMedia | InboundPostback | InboundLocation | InboundStatus
InboundMessage = InboundText | InboundMedia | InboundPostback | InboundLocation
Control = AgentReply | HandoffChange | ConversationTimeout
PipelineInput = (
    InboundText
    | InboundMedia
    | InboundPostback
    | InboundLocation
    | InboundStatus
    | ConversationStarted
    | AgentReply
    | HandoffChange
    | ConversationTimeout
)

# ---- outbound ------------------------------------------------------------------------------


class OutboundText(Event, frozen=True, gc=False):
    """Text for the user, optionally with quick-reply buttons. seq is set once persisted."""

    text: str
    buttons: tuple[Button, ...] = ()
    seq: int = 0
    # The platform address to send to (chat id, phone number); set by the pipeline.
    recipient: str = ""


class OutboundMedia(Event, frozen=True, gc=False):
    """Media for the user."""

    media: Media
    seq: int = 0
    recipient: str = ""


class OutboundTyping(Event, frozen=True, gc=False):
    """The bot is working on an answer; never persisted."""

    priority: ClassVar[int] = 5


class OutboundDelta(Event, frozen=True, gc=False):
    """Streamed tokens of the message being written (the widget shows them); never persisted."""

    priority: ClassVar[int] = 5
    text: str


Outbound = OutboundText | OutboundMedia | OutboundTyping | OutboundDelta
OutboundMessage = OutboundText | OutboundMedia

AnyEvent = (
    InboundText
    | InboundMedia
    | InboundPostback
    | InboundLocation
    | InboundStatus
    | ConversationStarted
    | AgentReply
    | HandoffChange
    | ConversationTimeout
    | OutboundText
    | OutboundMedia
    | OutboundTyping
    | OutboundDelta
)

ENCODER: Final = msgspec.json.Encoder()
DECODER: Final = msgspec.json.Decoder(AnyEvent)
