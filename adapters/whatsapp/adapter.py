"""The WhatsApp Cloud API channel: Meta's webhook in, Graph API /{phone-number-id}/messages out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final, final

import aiohttp
import msgspec

from adapters.base import HttpReply, Parsed, RateLimits, RawRequest, SendResult
from adapters.errors import PermanentSendError, ProviderUnavailable
from adapters.meta.graph import MAX_MEDIA_BYTES, GraphClient
from adapters.meta.webhook import handshake, verify_signature
from adapters.whatsapp import render
from adapters.whatsapp.config import WhatsAppConfig
from adapters.whatsapp.payloads import parse_body
from runtime.errors import ConfigError
from runtime.events import OutboundMedia, OutboundMessage, OutboundText

KIND: Final = "whatsapp"


class _MessageId(msgspec.Struct):
    id: str


class _SendResponse(msgspec.Struct):
    """{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid..."}]}"""

    messages: list[_MessageId] = []


class _MediaInfo(msgspec.Struct):
    """GET /{media-id}: a short-lived download URL (about five minutes) and the file's type."""

    url: str
    mime_type: str | None = None


_SEND_RESPONSE: Final = msgspec.json.Decoder(_SendResponse)
_MEDIA_INFO: Final = msgspec.json.Decoder(_MediaInfo)
_OK: Final = HttpReply(status=200)


@final
class WhatsAppAdapter:
    """One WhatsApp business phone number."""

    kind: ClassVar[str] = KIND
    # Cloud API throughput is 80 msg/s per business number by default (…/whatsapp/throughput).
    # The pair rate limit is 1 message per 6 s to one user (about-the-platform#rate-limits, error
    # 131056); Meta tolerates short bursts against future quota, so a 3-message answer (a split
    # text, a caption) goes out at once and pacing starts after it.
    limits: ClassVar[RateLimits] = RateLimits(per_channel=80.0, per_recipient=1 / 6, burst=3)

    __slots__ = ("_config", "_graph")

    def __init__(self, config: WhatsAppConfig, *, http: aiohttp.ClientSession) -> None:
        for name in ("access_token", "app_secret", "verify_token", "phone_number_id"):
            if not getattr(config, name):
                raise ConfigError(f"channels.{config.slug}.{name}", "must be set for a WhatsApp channel")
        self._config = config
        self._graph = GraphClient(http=http, api_base=config.api_base, access_token=config.access_token)

    def __repr__(self) -> str:
        return f"WhatsAppAdapter(slug={self._config.slug!r})"

    @property
    def config(self) -> WhatsAppConfig:
        return self._config

    def handshake(self, request: RawRequest) -> HttpReply | None:
        """Answers Meta's GET hub.challenge; None for a POST."""
        return handshake(request, self._config.verify_token)

    def verify(self, request: RawRequest, now: float) -> None:
        """Checks X-Hub-Signature-256; Meta signs no timestamp, so there is no staleness window."""
        verify_signature(request, self._config.app_secret)

    def parse(self, request: RawRequest) -> Parsed:
        """Messages and statuses for this phone number; everything else in the batch is noise."""
        return Parsed(messages=parse_body(request.body, self._config.phone_number_id))

    def ack(self, parsed: Parsed) -> HttpReply:
        """Meta wants a 200; the body is ignored."""
        return _OK

    async def send(self, recipient: str, message: OutboundMessage) -> SendResult:
        """Renders text (with buttons, a list or numbered options) or media, and sends it."""
        match message:
            case OutboundText(text=text, buttons=buttons):
                bodies = render.render_text(recipient, text, buttons, self._config.list_button)
            case OutboundMedia(media=media):
                bodies = render.render_media(recipient, media)
        return await self._send_all(bodies)

    async def send_template(self, recipient: str, name: str | None = None, language: str | None = None) -> SendResult:
        """Sends an approved template (the channel's unless named), as outside the 24-hour window.

        Raises PermanentSendError (status 0: nothing was sent) when no template is configured.
        """
        name = name or self._config.template_name
        if not name:
            raise PermanentSendError(0, f"channel {self._config.slug!r} has no template_name configured")
        body = render.template(recipient, name, language or self._config.template_language)
        return await self._send_all([body])

    async def typing(self, recipient: str) -> None:
        """Does nothing: the Cloud API's typing indicator hangs off an inbound message id.

        It is sent with mark-as-read ({"status": "read", "message_id": wamid, "typing_indicator"})
        and the outbox knows only the recipient; callers holding the wamid use mark_read.
        """

    async def mark_read(self, message_id: str, *, typing: bool = False) -> None:
        """Marks an inbound message (its wamid) read; with typing, shows the typing indicator."""
        await self._graph.post(self._messages_path, render.mark_read(message_id, typing=typing))

    async def fetch_media(self, media_id: str, *, max_bytes: int = MAX_MEDIA_BYTES) -> bytes:
        """Downloads inbound media (a voice note to transcribe): GET /{media-id}, then its URL."""
        raw = await self._graph.get(f"/{media_id}")
        try:
            info = _MEDIA_INFO.decode(raw)
        except msgspec.DecodeError:
            raise ProviderUnavailable("media lookup answered without a url") from None
        return await self._graph.download(info.url, max_bytes=max_bytes)

    @property
    def _messages_path(self) -> str:
        return f"/{self._config.phone_number_id}/messages"

    async def _send_all(self, bodies: Sequence[render.Body]) -> SendResult:
        # Parts go in order, each after the previous one was accepted. A failure part-way raises
        # and the outbox retries the whole message: WhatsApp has no idempotency key to dedupe on.
        ids: list[str] = []
        for body in bodies:
            raw = await self._graph.post(self._messages_path, body)
            try:
                ids.extend(m.id for m in _SEND_RESPONSE.decode(raw).messages)
            except msgspec.DecodeError:
                pass  # accepted (2xx) but unreadable: retrying would send it twice
        return SendResult(provider_ids=tuple(ids))
