"""The Instagram Direct channel: Meta's webhook in, the Send API /{ig-user-id}/messages out."""

from __future__ import annotations

from typing import ClassVar, Final, final

import msgspec

from adapters.base import Parsed, RateLimits, RawRequest, SendResult
from adapters.instagram import render
from adapters.instagram.config import InstagramConfig
from adapters.instagram.payloads import parse_body
from adapters.meta.adapter import MetaAdapter
from runtime.events import OutboundMedia, OutboundMessage, OutboundText

KIND: Final = "instagram"


class _SendResponse(msgspec.Struct):
    """{"recipient_id": IGSID, "message_id": mid}"""

    message_id: str | None = None


_SEND_RESPONSE: Final = msgspec.json.Decoder(_SendResponse)


@final
class InstagramAdapter(MetaAdapter[InstagramConfig]):
    """One Instagram professional account."""

    kind: ClassVar[str] = KIND
    # Messenger Platform rate limiting: the Send API allows 300 calls/s per Instagram
    # professional account for text (10/s for audio and video); 100/s is a conservative
    # default under both text figures. Meta publishes no per-thread number, only that "too
    # many messages to a single thread" get limited: 1/s per user, a burst of 3, is ours.
    limits: ClassVar[RateLimits] = RateLimits(per_channel=100.0, per_recipient=1.0, burst=3)
    _node_setting: ClassVar[str] = "ig_user_id"
    _channel_name: ClassVar[str] = "an Instagram channel"

    __slots__ = ()

    def parse(self, request: RawRequest) -> Parsed:
        """User messages, postbacks, reads and edits; echoes, reactions and the rest are noise."""
        return Parsed(messages=parse_body(request.body, self._config.ig_user_id))

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

    @staticmethod
    def _message_ids(answer: bytes) -> tuple[str, ...]:
        message_id = _SEND_RESPONSE.decode(answer).message_id
        return (message_id,) if message_id else ()
