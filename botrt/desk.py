"""The live-agent console: GET /agent/ws and the operator routes under /api/v1.

Human agents see handed-off conversations, read what users write while the bot is silent,
answer, and hand conversations back. Until API keys exist these routes take the operator
token from BOTRT_ADMIN_TOKEN (Authorization: Bearer ..., or ?token= on the websocket) and are
refused while it is unset.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, final

import asyncpg
import msgspec
from aiohttp import WSMsgType, web

from runtime.events import AgentReply, HandoffChange, InboundMessage, PipelineInput
from runtime.ids import new_id
from runtime.logging import get_logger
from runtime.ports import ConversationSnapshot
from storage.handoffs import conversation_org, open_handoffs

log = get_logger(__name__)

MAX_TEXT: Final = 4096
Publish = Callable[[str, PipelineInput], Awaitable[None]]


class ReplyBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    text: str
    agent: str = "operator"


class HandoffBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: str | None = None
    agent: str = "operator"


class AgentFrame(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    conversation_id: str


class ReplyFrame(AgentFrame, frozen=True, tag="reply"):
    text: str


class TakeFrame(AgentFrame, frozen=True, tag="take"):
    reason: str | None = None


class ReturnFrame(AgentFrame, frozen=True, tag="return"):
    pass


_FRAMES: Final = msgspec.json.Decoder(ReplyFrame | TakeFrame | ReturnFrame)
_ENCODER: Final = msgspec.json.Encoder()


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@final
class AgentDesk:
    """HandoffDesk port (pipeline -> agents) and the operator routes (agents -> pipeline)."""

    def __init__(self, *, token: str | None, pool: asyncpg.Pool, publish: Publish, org_ids: list[str]) -> None:
        self._token = token
        self._pool = pool
        self._publish = publish
        self._org_ids = org_ids
        self._sockets: set[web.WebSocketResponse] = set()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/agent/ws", self.websocket),
            web.get("/api/v1/handoffs", self.list_handoffs),
            web.post("/api/v1/conversations/{id}/messages", self.post_message),
            web.post("/api/v1/conversations/{id}/handoff", self.post_handoff),
            web.post("/api/v1/conversations/{id}/handback", self.post_handback),
        ]

    # ---- authentication ------------------------------------------------------------------------

    def _refusal(self, request: web.Request, *, allow_query: bool = False) -> web.Response | None:
        if not self._token:
            return _error(403, "disabled", "the operator API is off: set BOTRT_ADMIN_TOKEN to enable it")
        header = request.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else ""
        if not given and allow_query:
            given = request.query.get("token", "")
        if not given:
            return _error(401, "unauthenticated", "send Authorization: Bearer <BOTRT_ADMIN_TOKEN>")
        if not hmac.compare_digest(given.encode(), self._token.encode()):
            return _error(403, "forbidden", "wrong operator token")
        return None

    async def _org_of(self, conversation_id: str) -> str | None:
        return await conversation_org(self._pool, conversation_id)

    async def _control(self, request: web.Request, make: Callable[[str, str], PipelineInput]) -> web.Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        conversation_id = request.match_info["id"]
        org_id = await self._org_of(conversation_id)
        if org_id is None:
            return _error(404, "not_found", f"no conversation {conversation_id}")
        try:
            event = make(org_id, conversation_id)
        except msgspec.ValidationError as exc:
            return _error(400, "invalid_body", str(exc))
        await self._publish(conversation_id, event)
        return web.json_response({"status": "accepted", "event_id": event.event_id}, status=202)

    # ---- REST ----------------------------------------------------------------------------------

    async def post_message(self, request: web.Request) -> web.Response:
        raw = await request.read()

        def make(org_id: str, conversation_id: str) -> PipelineInput:
            body = msgspec.json.decode(raw or b"{}", type=ReplyBody)
            if not body.text.strip() or len(body.text) > MAX_TEXT:
                raise msgspec.ValidationError(f"text must be 1-{MAX_TEXT} characters")
            return AgentReply(**_common(org_id, conversation_id), text=body.text, agent=body.agent)

        try:
            return await self._control(request, make)
        except msgspec.DecodeError as exc:
            return _error(400, "invalid_json", str(exc))

    async def post_handoff(self, request: web.Request) -> web.Response:
        raw = await request.read()

        def make(org_id: str, conversation_id: str) -> PipelineInput:
            body = msgspec.json.decode(raw or b"{}", type=HandoffBody)
            return HandoffChange(**_common(org_id, conversation_id), action="take", agent=body.agent, reason=body.reason)

        try:
            return await self._control(request, make)
        except msgspec.DecodeError as exc:
            return _error(400, "invalid_json", str(exc))

    async def post_handback(self, request: web.Request) -> web.Response:
        return await self._control(
            request, lambda org, cid: HandoffChange(**_common(org, cid), action="return", agent="operator")
        )

    async def list_handoffs(self, request: web.Request) -> web.Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        return web.json_response({"handoffs": await self._open_handoffs()})

    async def _open_handoffs(self) -> list[dict[str, Any]]:
        return await open_handoffs(self._pool, self._org_ids)

    # ---- the agents' websocket -----------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        refused = self._refusal(request, allow_query=True)
        if refused is not None:
            return refused
        ws = web.WebSocketResponse(heartbeat=30.0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await ws.send_str(_ENCODER.encode({"type": "queue", "handoffs": await self._open_handoffs()}).decode())
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._agent_frame(ws, msg.data)
        finally:
            self._sockets.discard(ws)
        return ws

    async def _agent_frame(self, ws: web.WebSocketResponse, data: str) -> None:
        try:
            frame = _FRAMES.decode(data)
        except msgspec.DecodeError as exc:
            await ws.send_str(_ENCODER.encode({"type": "error", "code": "invalid_frame", "message": str(exc)}).decode())
            return
        org_id = await self._org_of(frame.conversation_id)
        if org_id is None:
            await ws.send_str(_ENCODER.encode({"type": "error", "code": "not_found", "message": "no such conversation"}).decode())
            return
        common = _common(org_id, frame.conversation_id)
        event: PipelineInput
        match frame:
            case ReplyFrame(text=text):
                event = AgentReply(**common, text=text[:MAX_TEXT], agent="agent-ws")
            case TakeFrame(reason=reason):
                event = HandoffChange(**common, action="take", agent="agent-ws", reason=reason)
            case ReturnFrame():
                event = HandoffChange(**common, action="return", agent="agent-ws")
        await self._publish(frame.conversation_id, event)
        await ws.send_str(_ENCODER.encode({"type": "accepted", "event_id": event.event_id}).decode())

    async def _broadcast(self, frame: dict[str, Any]) -> None:
        text = _ENCODER.encode(frame).decode()
        for ws in list(self._sockets):
            if ws.closed:
                continue
            try:
                async with asyncio.timeout(5):
                    await ws.send_str(text)
            except (TimeoutError, ConnectionError):
                await ws.close()

    # ---- HandoffDesk port ----------------------------------------------------------------------

    async def requested(self, snapshot: ConversationSnapshot, reason: str | None, by: str) -> None:
        await self._broadcast({"type": "handoff", **_where(snapshot), "reason": reason, "requested_by": by})

    async def user_message(self, snapshot: ConversationSnapshot, event: InboundMessage, text: str) -> None:
        await self._broadcast({"type": "message", **_where(snapshot), "text": text, "ts": event.ts})

    async def returned(self, snapshot: ConversationSnapshot, agent: str) -> None:
        await self._broadcast({"type": "returned", **_where(snapshot), "agent": agent})

    async def ended(self, snapshot: ConversationSnapshot) -> None:
        await self._broadcast({"type": "ended", **_where(snapshot)})

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"server shutting down")


def _common(org_id: str, conversation_id: str) -> dict[str, Any]:
    # channel fields are filled from the conversation's snapshot by the pipeline when needed.
    return {
        "event_id": new_id(),
        "org_id": org_id,
        "conversation_id": conversation_id,
        "channel_id": "",
        "channel_kind": "",
        "ts": time.time(),
    }


def _where(snapshot: ConversationSnapshot) -> dict[str, Any]:
    return {
        "conversation_id": snapshot.conversation_id,
        "org_id": snapshot.org_id,
        "channel": snapshot.channel_kind,
        "contact": snapshot.recipient,
    }
