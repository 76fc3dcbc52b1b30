"""Helpers every adapter's tests share: outbound messages to send, a webhook route in miniature."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from aiohttp import web

from adapters.base import ChannelAdapter, Parsed, RawRequest
from adapters.errors import PayloadInvalid, SignatureInvalid, SignatureMissing
from runtime.events import Button, Media, OutboundMedia, OutboundText
from tests.fakes.server import LoopbackServer


def outbound_text(kind: str, body: str, buttons: Sequence[Button] = (), *, event_id: str = "e1") -> OutboundText:
    """A text (with buttons) for a channel of kind."""
    return OutboundText(
        event_id=event_id,
        org_id="o",
        conversation_id="c",
        channel_id="ch",
        channel_kind=kind,
        ts=0.0,
        text=body,
        buttons=tuple(buttons),
    )


def outbound_media(kind: str, media: Media, *, event_id: str = "e2") -> OutboundMedia:
    """A piece of media for a channel of kind."""
    return OutboundMedia(
        event_id=event_id, org_id="o", conversation_id="c", channel_id="ch", channel_kind=kind, ts=0.0, media=media
    )


def option_buttons(n: int) -> tuple[Button, ...]:
    """Buttons "Option 1" to "Option n", with payloads opt:1 to opt:n."""
    return tuple(Button(title=f"Option {i}", payload=f"opt:{i}") for i in range(1, n + 1))


class Hook(LoopbackServer):
    """The ingress in miniature on loopback: verify, parse, answer the handshake or the ack.

    Every parsed request is kept in `parsed`; the platform's fake delivers to `url`.
    """

    _runner_options: ClassVar[Mapping[str, Any]] = {"access_log": None}

    def __init__(self, adapter: ChannelAdapter, path: str) -> None:
        super().__init__()
        self.adapter = adapter
        self.path = path
        self.parsed: list[Parsed] = []

    def _routes(self) -> list[web.RouteDef]:
        return [web.post(self.path, self._handle)]

    @property
    def url(self) -> str:
        return self.origin + self.path

    async def _handle(self, http: web.Request) -> web.Response:
        raw = RawRequest(
            method=http.method,
            url=self.origin + http.path_qs,
            headers={k.lower(): v for k, v in http.headers.items()},
            query=list(http.query.items()),
            body=await http.read(),
        )
        try:
            self.adapter.verify(raw, time.time())
            parsed = self.adapter.parse(raw)
        except SignatureMissing:
            return web.Response(status=401)
        except SignatureInvalid:
            return web.Response(status=403)
        except PayloadInvalid:
            return web.Response(status=400)
        self.parsed.append(parsed)
        reply = parsed.reply or self.adapter.ack(parsed)
        return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)


def serve(adapter: ChannelAdapter, path: str) -> Hook:
    """A webhook route for adapter at path; use as ``async with serve(adapter, path) as hook``."""
    return Hook(adapter, path)
