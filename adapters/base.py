"""What every platform adapter is: verify, parse, send. Pure protocol translation.

The route handler (in botrt) turns an HTTP request into a RawRequest, asks the channel's
adapter to verify and parse it, commits the parsed messages to the inbox and answers with the
adapter's ack. Sending goes through the outbox, which calls ``send`` with rate limits and
retries around it. Adapters know platforms, never bots or databases.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol

import msgspec

from runtime.events import Media, OutboundMessage


class RawRequest(msgspec.Struct, frozen=True, kw_only=True):
    """An inbound HTTP request as the platform sent it."""

    method: str
    # The public URL the platform called and signed: BOTRT_PUBLIC_URL + path + query.
    url: str
    # Header names lower-cased; a repeated header keeps its last value.
    headers: dict[str, str]
    query: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class HttpReply(msgspec.Struct, frozen=True, kw_only=True):
    """What to answer the platform."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict[str, str] = {}


class Location(msgspec.Struct, frozen=True, kw_only=True):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


InboundKind = Literal["text", "media", "postback", "location", "status", "edit"]


class ParsedMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One thing a user (or the platform, for statuses) did, in platform terms."""

    # The platform's unique id for this delivery, the dedupe key (update_id, wamid, event_id,
    # MessageSid + status for status callbacks).
    external_id: str
    # Where answers go: Telegram chat id, WhatsApp/SMS phone number, Slack channel (and
    # thread), Instagram-scoped user id.
    sender: str
    kind: InboundKind
    ts: float
    text: str | None = None
    payload: str | None = None
    title: str | None = None
    media: Media | None = None
    location: Location | None = None
    status: str | None = None  # sent | delivered | read | failed
    # For statuses and edits: the platform id of the message they refer to.
    ref_id: str | None = None
    sender_name: str | None = None


class Parsed(msgspec.Struct, frozen=True, kw_only=True):
    """A request's messages; noise (the bot's own messages, unknown events) is simply absent."""

    messages: tuple[ParsedMessage, ...] = ()
    # Set for handshakes (Slack url_verification): answered as is, nothing to commit.
    reply: HttpReply | None = None


class SendResult(msgspec.Struct, frozen=True, kw_only=True):
    """The platform's id(s) of what was sent (a long text may become several messages)."""

    provider_ids: tuple[str, ...] = ()


class RateLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Documented send limits (PROTOCOLS.md): messages per second per channel and per recipient."""

    per_channel: float
    per_recipient: float
    burst: int = 1


class ChannelAdapter(Protocol):
    """One platform. Built once per channel with its resolved config and an HTTP session."""

    kind: ClassVar[str]
    limits: ClassVar[RateLimits]
    # Whether the platform may deliver webhooks as signed GETs (Twilio, when the number's URL is
    # set to HTTP GET: the parameters ride in the query). Otherwise a GET that is not a
    # handshake is answered 405.
    get_webhooks: ClassVar[bool]

    def handshake(self, request: RawRequest) -> HttpReply | None:
        """Answers a GET verification handshake (Meta hub.challenge); None if not one."""
        ...

    def verify(self, request: RawRequest, now: float) -> None:
        """Raises SignatureMissing (401) or SignatureInvalid (403); constant-time compare."""
        ...

    def parse(self, request: RawRequest) -> Parsed:
        """Pure: no I/O. Raises PayloadInvalid (400) on a malformed body."""
        ...

    def ack(self, parsed: Parsed) -> HttpReply:
        """The success answer once the messages are committed (Twilio: empty TwiML)."""
        ...

    async def send(self, recipient: str, message: OutboundMessage) -> SendResult:
        """Renders natively and sends; raises RateLimited, ProviderUnavailable, PermanentSendError."""
        ...

    async def typing(self, recipient: str) -> None:
        """Shows a typing indicator where the platform has one; otherwise does nothing."""
        ...
