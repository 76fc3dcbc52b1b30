"""The widget's websocket: hello/welcome, acked messages, seq-numbered replies, resume.

Nothing here knows bots or databases: sessions, the inbox and the bus come in as ports.
"""

from __future__ import annotations

import asyncio
import html
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Final, final
from urllib.parse import urlsplit

import msgspec
from aiohttp import WSMsgType, web

from adapters.webchat.frames import (
    CLIENT_DECODER,
    CLIENT_TYPES,
    MAX_FRAME_BYTES,
    MAX_TEXT_CHARS,
    SERVER_ENCODER,
    Ack,
    Delta,
    Error,
    Hello,
    Message,
    MessageOut,
    Postback,
    ServerFrame,
    Typing,
    Welcome,
)
from runtime import metrics
from runtime.events import (
    ConversationStarted,
    InboundMessage,
    InboundPostback,
    InboundText,
    Outbound,
    OutboundDelta,
    OutboundMedia,
    OutboundText,
    OutboundTyping,
    PipelineInput,
)
from runtime.ids import new_id
from runtime.logging import get_logger
from runtime.ports import ChannelRef, Inbox, WebchatStore

log = get_logger(__name__)

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
KIND: Final = "webchat"
HELLO_TIMEOUT: Final = 30.0
SEND_TIMEOUT: Final = 5.0
REPLAY_LIMIT: Final = 500

Publish = Callable[[str, PipelineInput], Awaitable[None]]


@final
class _Connection:
    """One open widget socket bound to a conversation."""

    __slots__ = ("conversation_id", "last_sent", "lock", "session", "ws")

    def __init__(self, ws: web.WebSocketResponse, session: str, conversation_id: str) -> None:
        self.ws = ws
        self.session = session
        self.conversation_id = conversation_id
        self.last_sent = 0
        # Held while replaying history, so live messages queue behind it in seq order.
        self.lock = asyncio.Lock()

    async def send(self, frame: ServerFrame) -> None:
        async with asyncio.timeout(SEND_TIMEOUT):
            await self.ws.send_str(SERVER_ENCODER.encode(frame).decode())


def origin_allowed(origin: str | None, host: str, allowed: list[str]) -> bool:
    """Browsers always send Origin on websockets; a missing one is a non-browser client."""
    if origin is None:
        return True
    if "*" in allowed:
        return True
    normalized = origin.rstrip("/").lower()
    if not allowed:
        return urlsplit(normalized).netloc == host.lower()
    return normalized in {a.rstrip("/").lower() for a in allowed}


@final
class WebchatAdapter:
    """Serves /chat/{slug} (page) and /chat/{slug}/ws (socket) and delivers to open sockets."""

    kind: Final = KIND

    def __init__(
        self,
        *,
        channels: Mapping[str, ChannelRef],
        store: WebchatStore,
        inbox: Inbox,
        publish: Publish,
    ) -> None:
        self._channels = {slug: c for slug, c in channels.items() if c.kind == KIND}
        self._store = store
        self._inbox = inbox
        self._publish = publish
        self._sockets: dict[str, set[_Connection]] = {}
        self._page = (STATIC_DIR / "chat.html").read_text(encoding="utf-8")

    @property
    def open_sockets(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.static("/chat/static", STATIC_DIR, append_version=False),
            web.get("/chat/{slug}", self.page),
            web.get("/chat/{slug}/ws", self.websocket),
        ]

    def _channel(self, request: web.Request) -> ChannelRef:
        channel = self._channels.get(request.match_info["slug"])
        if channel is None:
            raise web.HTTPNotFound(text=f"no webchat channel {request.match_info['slug']!r}\n")
        return channel

    async def page(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body = self._page.replace("{{SLUG}}", html.escape(channel.slug))
        return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-cache"})

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        allowed = list(channel.config.get("allowed_origins", []))
        if not origin_allowed(request.headers.get("Origin"), request.host, allowed):
            log.info("webchat.origin_refused", origin=request.headers.get("Origin"), slug=channel.slug)
            raise web.HTTPForbidden(text="origin not allowed for this channel (allowed_origins)\n")
        # aiohttp's own limit only closes the socket; ours answers too_large and stays open.
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES * 64, compress=False)
        await ws.prepare(request)
        metrics.WEBCHAT_SESSIONS.inc()
        conn: _Connection | None = None
        try:
            async with asyncio.timeout(HELLO_TIMEOUT) as hello_deadline:
                async for msg in ws:
                    if msg.type != WSMsgType.TEXT:
                        if msg.type == WSMsgType.BINARY:
                            await self._error(ws, "unsupported", "send JSON text frames")
                            continue
                        break
                    frame = await self._decode(ws, msg.data)
                    if frame is None:
                        continue
                    match frame:
                        case Hello():
                            if conn is not None:
                                await self._error(ws, "duplicate_hello", "this socket already said hello")
                                continue
                            conn = await self._hello(ws, channel, frame)
                            hello_deadline.reschedule(None)
                        case Message() | Postback() if conn is None:
                            await self._error(ws, "hello_required", "send a hello frame first")
                        case Message():
                            await self._message(conn, channel, frame)  # type: ignore[arg-type]
                        case Postback():
                            await self._message(conn, channel, frame)  # type: ignore[arg-type]
        except TimeoutError:
            if conn is None:
                await self._error(ws, "hello_timeout", "no hello frame in time")
        finally:
            metrics.WEBCHAT_SESSIONS.dec()
            if conn is not None:
                peers = self._sockets.get(conn.conversation_id)
                if peers is not None:
                    peers.discard(conn)
                    if not peers:
                        del self._sockets[conn.conversation_id]
            await ws.close()
        return ws

    async def _decode(self, ws: web.WebSocketResponse, data: str) -> Hello | Message | Postback | None:
        if len(data) > MAX_FRAME_BYTES:
            await self._error(ws, "too_large", f"frames are limited to {MAX_FRAME_BYTES} bytes")
            return None
        try:
            frame = CLIENT_DECODER.decode(data)
        except msgspec.ValidationError as exc:
            raw = msgspec.json.decode(data)
            kind = raw.get("type") if isinstance(raw, dict) else None
            if kind not in CLIENT_TYPES:
                expected = sorted(CLIENT_TYPES)
                await self._error(ws, "unknown_type", f"unknown frame type {kind!r}; expected one of {expected}")
            else:
                await self._error(ws, "invalid_frame", str(exc))
            return None
        except msgspec.DecodeError:
            await self._error(ws, "invalid_json", "the frame is not valid JSON")
            return None
        if isinstance(frame, Message) and not frame.text.strip():
            await self._error(ws, "invalid_frame", "text must not be empty")
            return None
        if isinstance(frame, Message) and len(frame.text) > MAX_TEXT_CHARS:
            await self._error(ws, "too_large", f"text is limited to {MAX_TEXT_CHARS} characters")
            return None
        return frame

    async def _error(self, ws: web.WebSocketResponse, code: str, message: str) -> None:
        if not ws.closed:
            await ws.send_str(SERVER_ENCODER.encode(Error(code=code, message=message)).decode())

    async def _hello(self, ws: web.WebSocketResponse, channel: ChannelRef, hello: Hello) -> _Connection:
        opened = await self._store.open_session(channel, hello.session)
        conn = _Connection(ws, opened.session, opened.conversation_id)
        async with conn.lock:
            self._sockets.setdefault(opened.conversation_id, set()).add(conn)
            await conn.send(Welcome(session=opened.session))
            if opened.is_new:
                await self._publish(
                    opened.conversation_id,
                    ConversationStarted(
                        event_id=new_id(),
                        org_id=channel.org_id,
                        conversation_id=opened.conversation_id,
                        channel_id=channel.channel_id,
                        channel_kind=KIND,
                        ts=time.time(),
                    ),
                )
            else:
                # Live deliveries wait on the lock, then skip what the replay already sent.
                missed = await self._store.history(channel, opened.conversation_id, hello.last_seq or 0, REPLAY_LIMIT)
                for event in missed:
                    await self._send_outbound(conn, event)
        log.debug("webchat.hello", conversation_id=opened.conversation_id, new=opened.is_new)
        return conn

    async def _message(self, conn: _Connection, channel: ChannelRef, frame: Message | Postback) -> None:
        client_id = frame.client_id or str(uuid.uuid4())
        common = {
            "event_id": new_id(),
            "org_id": channel.org_id,
            "conversation_id": conn.conversation_id,
            "channel_id": channel.channel_id,
            "channel_kind": KIND,
            "ts": time.time(),
            "external_id": f"{conn.conversation_id}:{client_id}",
        }
        event: InboundMessage
        if isinstance(frame, Message):
            event = InboundText(text=frame.text, **common)  # type: ignore[arg-type]
        else:
            event = InboundPostback(payload=frame.payload, title=frame.title, **common)  # type: ignore[arg-type]
        try:
            accepted = await self._inbox.accept(event)
        except Exception as exc:  # noqa: BLE001 - no ack: the client resends with the same client_id
            log.warning("webchat.commit_failed", error=repr(exc))
            await self._error(conn.ws, "unavailable", "message not stored; resend it with the same client_id")
            return
        await conn.send(Ack(client_id=client_id, duplicate=not accepted))
        if accepted:
            metrics.child(metrics.MESSAGES_IN, KIND).inc()
            await self._publish(conn.conversation_id, event)
        else:
            metrics.child(metrics.MESSAGES_DUPLICATE, KIND).inc()

    async def deliver(self, event: Outbound) -> None:
        """Sends an outbound event to every socket open on its conversation."""
        for conn in list(self._sockets.get(event.conversation_id, ())):
            if conn.ws.closed:
                continue
            try:
                if isinstance(event, OutboundTyping):
                    await conn.send(Typing())
                elif isinstance(event, OutboundDelta):
                    async with conn.lock:
                        await conn.send(Delta(text=event.text))
                else:
                    async with conn.lock:
                        await self._send_outbound(conn, event)
            except (TimeoutError, ConnectionError) as exc:
                # The message is stored; the client gets it on resume.
                log.info("webchat.send_failed", error=repr(exc))
                await conn.ws.close()

    async def _send_outbound(self, conn: _Connection, event: OutboundText | OutboundMedia) -> None:
        if event.seq <= conn.last_sent:
            return
        if isinstance(event, OutboundText):
            frame = MessageOut(seq=event.seq, text=event.text, buttons=event.buttons)
        else:
            frame = MessageOut(seq=event.seq, text=event.media.caption or event.media.url or "")
        await conn.send(frame)
        conn.last_sent = event.seq

    async def close_all(self) -> None:
        """Closes every socket with 1001 (going away), so widgets reconnect elsewhere."""
        for peers in list(self._sockets.values()):
            for conn in list(peers):
                await conn.ws.close(code=1001, message=b"server shutting down")
