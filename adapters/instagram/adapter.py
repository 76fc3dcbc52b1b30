"""The Instagram Direct channel: Meta's webhook in, the Send API /{ig-user-id}/messages out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final, final

import aiohttp
import msgspec

from adapters.base import HttpReply, Parsed, RateLimits, RawRequest, SendResult
from adapters.instagram import render
from adapters.instagram.config import InstagramConfig
from adapters.instagram.payloads import parse_body
from adapters.meta.graph import GraphClient
from adapters.meta.webhook import handshake, verify_signature
from runtime.errors import ConfigError
from runtime.events import OutboundMedia, OutboundMessage, OutboundText

KIND: Final = "instagram"


class _SendResponse(msgspec.Struct):
    """{"recipient_id": IGSID, "message_id": mid}"""

    message_id: str | None = None


_SEND_RESPONSE: Final = msgspec.json.Decoder(_SendResponse)
_OK: Final = HttpReply(status=200)


@final
class InstagramAdapter:
    """One Instagram professional account."""

    kind: ClassVar[str] = KIND
    # Messenger Platform rate limiting: the Send API allows 300 calls/s per Instagram
    # professional account for text (10/s for audio and video); 100/s is a conservative
    # default under both text figures. Meta publishes no per-thread number, only that "too
    # many messages to a single thread" get limited: 1/s per user, a burst of 3, is ours.
    limits: ClassVar[RateLimits] = RateLimits(per_channel=100.0, per_recipient=1.0, burst=3)

    __slots__ = ("_config", "_graph")

    def __init__(self, config: InstagramConfig, *, http: aiohttp.ClientSession) -> None:
        for name in ("access_token", "app_secret", "verify_token", "ig_user_id"):
            if not getattr(config, name):
                raise ConfigError(f"channels.{config.slug}.{name}", "must be set for an Instagram channel")
        self._config = config
        self._graph = GraphClient(http=http, api_base=config.api_base, access_token=config.access_token)

    def __repr__(self) -> str:
        return f"InstagramAdapter(slug={self._config.slug!r})"

    @property
    def config(self) -> InstagramConfig:
        return self._config

    def handshake(self, request: RawRequest) -> HttpReply | None:
        """Answers Meta's GET hub.challenge; None for a POST."""
        return handshake(request, self._config.verify_token)

    def verify(self, request: RawRequest, now: float) -> None:
        """Checks X-Hub-Signature-256; Meta signs no timestamp, so there is no staleness window."""
        verify_signature(request, self._config.app_secret)

    def parse(self, request: RawRequest) -> Parsed:
        """User messages, postbacks, reads and edits; echoes, reactions and the rest are noise."""
        return Parsed(messages=parse_body(request.body, self._config.ig_user_id))

    def ack(self, parsed: Parsed) -> HttpReply:
        """Meta wants a 200; the body is ignored."""
        return _OK

    async def send(self, recipient: str, message: OutboundMessage) -> SendResult:
        """Renders text (with quick replies or numbered options) or media, and sends it."""
        match message:
            case OutboundText(text=text, buttons=buttons):
                bodies = render.render_text(recipient, text, buttons)
            case OutboundMedia(media=media):
                bodies = render.render_media(recipient, media)
        return await self._send_all(bodies)

    async def typing(self, recipient: str) -> None:
        """Shows "typing…" until the next message or about 20 s; errors propagate typed."""
        await self._graph.post(self._messages_path, render.typing_on(recipient))

    @property
    def _messages_path(self) -> str:
        return f"/{self._config.ig_user_id}/messages"

    async def _send_all(self, bodies: Sequence[render.Body]) -> SendResult:
        # In order, each after the previous was accepted; a failure part-way raises and the
        # outbox retries the whole message (the Send API has no idempotency key).
        ids: list[str] = []
        for body in bodies:
            raw = await self._graph.post(self._messages_path, body)
            try:
                message_id = _SEND_RESPONSE.decode(raw).message_id
            except msgspec.DecodeError:
                message_id = None  # accepted (2xx) but unreadable: retrying would send it twice
            if message_id:
                ids.append(message_id)
        return SendResult(provider_ids=tuple(ids))
