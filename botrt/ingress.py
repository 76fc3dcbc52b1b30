"""Webhook routes of the platform channels: verify, parse, commit, answer. Nothing else.

A request gets 2xx only after its messages are committed to the inbox. When the bus is
saturated the answer is 503 with Retry-After so the platform retries later, except on SMS
(Twilio does not retry by default), which accepts whenever the commit succeeds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, final

from aiohttp import web

from adapters.base import ChannelAdapter, HttpReply, ParsedMessage, RawRequest
from adapters.errors import PayloadInvalid, SignatureInvalid, SignatureMissing
from runtime import metrics
from runtime.events import (
    Inbound,
    InboundLocation,
    InboundMedia,
    InboundPostback,
    InboundStatus,
    InboundText,
    Media,
    PipelineInput,
)
from runtime.ids import new_id
from runtime.logging import get_logger
from runtime.ports import ChannelRef, ContactDirectory, Inbox

log = get_logger(__name__)

# Channels whose platform does not retry a failed webhook: never shed load there.
NEVER_SHED: Final = frozenset({"sms", "voice"})
# Publishing waits at most this long for a full lane; the message is committed either way and a
# sweep picks up what did not get onto the bus.
PUBLISH_WAIT_S: Final = 1.0

Publish = Callable[[str, PipelineInput], Awaitable[None]]


def _reply(reply: HttpReply) -> web.Response:
    return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type, headers=reply.headers)


def to_event(channel: ChannelRef, conversation_id: str, message: ParsedMessage) -> Inbound:
    """A platform message as a runtime event; its row id is a fresh uuid."""
    common: dict[str, Any] = {
        "event_id": new_id(),
        "org_id": channel.org_id,
        "conversation_id": conversation_id,
        "channel_id": channel.channel_id,
        "channel_kind": channel.kind,
        "ts": time.time(),
        "external_id": message.external_id,
    }
    match message.kind:
        case "text" | "edit":
            return InboundText(
                text=message.text or "", edit_of=message.ref_id if message.kind == "edit" else None, **common
            )
        case "media":
            return InboundMedia(media=message.media or Media(kind="unknown"), text=message.text, **common)
        case "postback":
            return InboundPostback(payload=message.payload or "", title=message.title, **common)
        case "location":
            loc = message.location
            assert loc is not None, "a location message carries a location"
            return InboundLocation(latitude=loc.latitude, longitude=loc.longitude, name=loc.name, **common)
        case "status":
            return InboundStatus(status=message.status or "", ref_id=message.ref_id or "", **common)
    raise ValueError(f"unknown inbound kind {message.kind!r}")


@final
class Ingress:
    """Serves GET|POST /hooks/{kind}/{slug} for every configured platform channel."""

    def __init__(
        self,
        *,
        channels: Mapping[str, tuple[ChannelRef, ChannelAdapter]],
        contacts: ContactDirectory,
        inbox: Inbox,
        publish: Publish,
        saturated: Callable[[], bool],
        public_url: str,
        on_inbound: Callable[[str, float], None] | None = None,
    ) -> None:
        self._channels = channels
        self._contacts = contacts
        self._inbox = inbox
        self._publish = publish
        self._saturated = saturated
        self._public_url = public_url.rstrip("/")
        self._on_inbound = on_inbound

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.route("*", "/hooks/{kind}/{slug}", self.handle)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        kind, slug = request.match_info["kind"], request.match_info["slug"]
        found = self._channels.get(slug)
        if found is None or found[0].kind != kind:
            raise web.HTTPNotFound(text=f"no {kind} channel {slug!r}\n")
        channel, adapter = found
        if request.method not in ("GET", "POST"):
            raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST"])
        raw = RawRequest(
            method=request.method,
            url=self._public_url + request.path_qs,
            headers={k.lower(): v for k, v in request.headers.items()},
            query=list(request.query.items()),
            body=await request.read(),
        )
        try:
            response = await self._handle(channel, adapter, raw)
        finally:
            metrics.child(metrics.ACK_LATENCY, kind).observe(time.perf_counter() - started)
        return response

    async def _handle(self, channel: ChannelRef, adapter: ChannelAdapter, raw: RawRequest) -> web.Response:
        kind = channel.kind
        if raw.method == "GET":
            handshake = adapter.handshake(raw)
            if handshake is not None:
                metrics.child(metrics.WEBHOOKS, kind, "handshake").inc()
                return _reply(handshake)
            if not adapter.get_webhooks:
                raise web.HTTPMethodNotAllowed("GET", ["POST"])
            # A webhook delivered by GET (Twilio): verified and committed exactly like a POST.
        try:
            adapter.verify(raw, time.time())
        except SignatureMissing:
            metrics.child(metrics.WEBHOOKS, kind, "unsigned").inc()
            return web.Response(status=401, text="signature missing\n")
        except SignatureInvalid:
            metrics.child(metrics.WEBHOOKS, kind, "forged").inc()
            return web.Response(status=403, text="signature invalid or stale\n")
        try:
            parsed = adapter.parse(raw)
        except PayloadInvalid as exc:
            metrics.child(metrics.WEBHOOKS, kind, "invalid").inc()
            return web.Response(status=400, text=f"{exc}\n")
        if parsed.reply is not None:
            return _reply(parsed.reply)
        if parsed.messages and kind not in NEVER_SHED and self._saturated():
            metrics.child(metrics.WEBHOOKS, kind, "shed").inc()
            return web.Response(status=503, text="busy, retry later\n", headers={"Retry-After": "1"})
        try:
            events = [
                to_event(channel, await self._contacts.open_conversation(channel, m.sender, m.sender_name), m)
                for m in parsed.messages
            ]
            if len(events) == 1:  # the usual webhook: no task to wrap a lone coroutine in
                accepted = [await self._inbox.accept(events[0])]
            else:
                accepted = await asyncio.gather(*(self._inbox.accept(e) for e in events))
        except Exception as exc:  # noqa: BLE001 - not committed: the platform must retry
            metrics.child(metrics.WEBHOOKS, kind, "commit_failed").inc()
            log.warning("webhook.commit_failed", channel=channel.slug, error=repr(exc))
            return web.Response(status=503, text="not stored, retry\n", headers={"Retry-After": "5"})
        for event, new in zip(events, accepted, strict=True):
            if not new:
                metrics.child(metrics.MESSAGES_DUPLICATE, kind).inc()
                continue
            if isinstance(event, InboundStatus):
                continue
            metrics.child(metrics.MESSAGES_IN, kind).inc()
            if self._on_inbound is not None:
                self._on_inbound(event.conversation_id, event.ts)
            try:
                async with asyncio.timeout(PUBLISH_WAIT_S):
                    await self._publish(event.conversation_id, event)
            except TimeoutError:
                log.info("webhook.lane_full", conversation_id=event.conversation_id)
        metrics.child(metrics.WEBHOOKS, kind, "accepted").inc()
        return _reply(adapter.ack(parsed))
