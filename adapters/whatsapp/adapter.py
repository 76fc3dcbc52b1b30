"""The WhatsApp Cloud API channel: Meta's webhook in, Graph API /{phone-number-id}/messages out."""

from __future__ import annotations

from typing import ClassVar, Final, final

import msgspec

from adapters.base import Parsed, RateLimits, RawRequest, SendResult
from adapters.errors import PermanentSendError, ProviderUnavailable
from adapters.meta.adapter import MetaAdapter
from adapters.meta.graph import MAX_MEDIA_BYTES
from adapters.whatsapp import render
from adapters.whatsapp.config import WhatsAppConfig
from adapters.whatsapp.payloads import parse_body
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


@final
class WhatsAppAdapter(MetaAdapter[WhatsAppConfig]):
    """One WhatsApp business phone number."""

    kind: ClassVar[str] = KIND
    # Cloud API throughput is 80 msg/s per business number by default (…/whatsapp/throughput).
    # The pair rate limit is 1 message per 6 s to one user (about-the-platform#rate-limits, error
    # 131056); Meta tolerates short bursts against future quota, so a 3-message answer (a split
    # text, a caption) goes out at once and pacing starts after it.
    limits: ClassVar[RateLimits] = RateLimits(per_channel=80.0, per_recipient=1 / 6, burst=3)
    _node_setting: ClassVar[str] = "phone_number_id"
    _channel_name: ClassVar[str] = "a WhatsApp channel"

    __slots__ = ()

    def parse(self, request: RawRequest) -> Parsed:
        """Messages and statuses for this phone number; everything else in the batch is noise."""
        return Parsed(messages=parse_body(request.body, self._config.phone_number_id))

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

    @staticmethod
    def _message_ids(answer: bytes) -> list[str]:
        return [m.id for m in _SEND_RESPONSE.decode(answer).messages]
