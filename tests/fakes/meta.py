"""A fake Graph API on loopback for WhatsApp Cloud API and Instagram Send API tests.

It answers the documented request shapes with the documented response shapes, checks the
bearer token, records every request, serves media for download, and fails on demand:

    async with FakeMeta(access_token="t") as fake:
        adapter = WhatsAppAdapter(config(api_base=fake.api_base), http=session)
        fake.fail_next(429, retry_after=7)
        ...
        assert fake.messages("PHONE_ID")[0]["text"]["body"] == "hi"

Where Meta silently trims (Instagram quick-reply titles) the fake refuses instead, so a
renderer that stops respecting a limit fails a test rather than a user.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, final

import msgspec
from aiohttp import web

from tests.fakes.server import LoopbackServer

DEFAULT_TOKEN: Final = "fake-meta-access-token"
DEFAULT_VERSION: Final = "v23.0"

WA_TEXT_LIMIT: Final = 4096
WA_INTERACTIVE_BODY_LIMIT: Final = 1024
WA_CAPTION_LIMIT: Final = 1024
WA_MESSAGE_TYPES: Final = frozenset(
    {"text", "image", "audio", "video", "document", "sticker", "interactive", "template", "location", "reaction"}
)
WA_CAPTIONED: Final = frozenset({"image", "video", "document"})
IG_TEXT_LIMIT_BYTES: Final = 1000
IG_ATTACHMENT_TYPES: Final = frozenset({"image", "audio", "video", "file"})
IG_SENDER_ACTIONS: Final = frozenset({"typing_on", "typing_off", "mark_seen"})


def sign_meta(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header value Meta would send for body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received and what it answered."""

    method: str
    # The URL path, e.g. "/v23.0/PHONE_ID/messages" or "/media/MEDIA_ID".
    path: str
    # The Graph node addressed: "PHONE_ID" for /v23.0/PHONE_ID/messages, the media id for a lookup.
    node: str
    # The decoded JSON body (Any: tests index into it), or None for a GET or a non-JSON body.
    json: Any
    authorized: bool
    status: int


@dataclass(frozen=True, slots=True)
class Failure:
    """A queued failure: the HTTP status and, for Graph errors, the code to put in the body."""

    status: int
    code: int | None = None
    subcode: int | None = None
    message: str = "fake failure"
    retry_after: float | None = None
    is_transient: bool = False


class InvalidRequest(Exception):
    """The request does not match Meta's documented shape (answered 400, code 100)."""


@dataclass(frozen=True, slots=True)
class _Media:
    data: bytes
    mime_type: str


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise InvalidRequest(problem)


def _check_whatsapp(body: Mapping[str, Any]) -> None:
    """Raises InvalidRequest unless body is a documented Cloud API message (or mark-as-read)."""
    if body.get("status") == "read":
        _require(isinstance(body.get("message_id"), str), "message_id is required to mark read")
        return
    _require(isinstance(body.get("to"), str) and bool(body["to"]), "to is required")
    kind = body.get("type")
    _require(kind in WA_MESSAGE_TYPES, f"unknown message type {kind!r}")
    content = body.get(kind) if isinstance(kind, str) else None
    _require(isinstance(content, dict), f"{kind} object is required")
    assert isinstance(content, dict)
    match kind:
        case "text":
            text = content.get("body")
            _require(isinstance(text, str) and 0 < len(text) <= WA_TEXT_LIMIT, "text.body must be 1-4096 chars")
        case "interactive":
            _check_interactive(content)
        case "template":
            _require(isinstance(content.get("name"), str), "template.name is required")
            _require(isinstance(content.get("language", {}).get("code"), str), "template.language.code is required")
        case "image" | "audio" | "video" | "document" | "sticker":
            _require(("link" in content) != ("id" in content), "media needs exactly one of link and id")
            caption = content.get("caption")
            if caption is not None:
                _require(kind in WA_CAPTIONED, f"{kind} takes no caption")
                _require(len(caption) <= WA_CAPTION_LIMIT, "caption over 1024 chars")


def _check_interactive(content: Mapping[str, Any]) -> None:
    body = content.get("body", {}).get("text")
    _require(isinstance(body, str) and 0 < len(body) <= WA_INTERACTIVE_BODY_LIMIT, "body.text must be 1-1024 chars")
    action = content.get("action", {})
    if content.get("type") == "button":
        buttons = action.get("buttons", [])
        _require(1 <= len(buttons) <= 3, "1 to 3 buttons")
        ids = [b["reply"]["id"] for b in buttons]
        titles = [b["reply"]["title"] for b in buttons]
        _require(all(b.get("type") == "reply" for b in buttons), "buttons must be of type reply")
        _require(all(0 < len(t) <= 20 for t in titles), "button title 1-20 chars")
        _require(all(0 < len(i) <= 256 for i in ids), "button id 1-256 chars")
        _require(len(set(ids)) == len(ids) and len(set(titles)) == len(titles), "button ids and titles unique")
    elif content.get("type") == "list":
        label = action.get("button")
        _require(isinstance(label, str) and 0 < len(label) <= 20, "list button label 1-20 chars")
        rows = [row for section in action.get("sections", []) for row in section.get("rows", [])]
        _require(1 <= len(rows) <= 10, "1 to 10 rows")
        _require(all(0 < len(r["title"]) <= 24 for r in rows), "row title 1-24 chars")
        _require(all(0 < len(r["id"]) <= 200 for r in rows), "row id 1-200 chars")
        _require(all(len(r.get("description", "")) <= 72 for r in rows), "row description up to 72 chars")
        _require(len({r["id"] for r in rows}) == len(rows), "row ids unique")
    else:
        raise InvalidRequest(f"interactive type {content.get('type')!r} not supported by the fake")


def _check_instagram(body: Mapping[str, Any]) -> None:
    """Raises InvalidRequest unless body is a documented Instagram Send API call."""
    recipient = body.get("recipient")
    _require(isinstance(recipient, dict) and isinstance(recipient.get("id"), str), "recipient.id is required")
    if "sender_action" in body:
        _require("message" not in body, "sender_action goes alone")
        _require(body["sender_action"] in IG_SENDER_ACTIONS, "unknown sender_action")
        return
    message = body.get("message")
    _require(isinstance(message, dict), "message is required")
    assert isinstance(message, dict)
    if "attachment" in message:
        attachment = message["attachment"]
        _require("text" not in message, "text and attachment are exclusive")
        _require(attachment.get("type") in IG_ATTACHMENT_TYPES, "unknown attachment type")
        payload = attachment.get("payload", {})
        _require(("url" in payload) != ("attachment_id" in payload), "payload needs url or attachment_id")
        return
    text = message.get("text")
    _require(isinstance(text, str) and 0 < len(text.encode()) <= IG_TEXT_LIMIT_BYTES, "text must be 1-1000 bytes")
    replies = message.get("quick_replies", [])
    _require(len(replies) <= 13, "at most 13 quick replies")
    for reply in replies:
        _require(reply.get("content_type") == "text", "quick reply content_type text")
        _require(0 < len(reply.get("title", "")) <= 20, "quick reply title 1-20 chars")
        _require(0 < len(reply.get("payload", "")) <= 1000, "quick reply payload 1-1000 chars")


@final
class FakeMeta(LoopbackServer):
    """The fake Graph API server; an async context manager bound to 127.0.0.1 on a free port."""

    # No handler here ever waits, so aiohttp's own cancellation and shutdown defaults serve.
    _runner_options: ClassVar[Mapping[str, Any]] = {"access_log": None}

    def __init__(self, *, access_token: str = DEFAULT_TOKEN, version: str = DEFAULT_VERSION) -> None:
        super().__init__()
        self.access_token = access_token
        self.version = version
        self.requests: list[RecordedRequest] = []
        # None lets one request through: how fail_next(after=N) lets the first N succeed.
        self._failures: list[Failure | None] = []
        self._media: dict[str, _Media] = {}
        self._ids = itertools.count(1)

    def _routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/{tail:.*}", self._handle)]

    @property
    def api_base(self) -> str:
        """What a channel's api_base should be: origin plus the Graph version."""
        return f"{self.origin}/{self.version}"

    def fail_next(
        self,
        status: int = 500,
        *,
        times: int = 1,
        after: int = 0,
        code: int | None = None,
        subcode: int | None = None,
        message: str = "fake failure",
        retry_after: float | None = None,
        is_transient: bool = False,
    ) -> None:
        """Answers `times` requests (of any kind), after letting `after` through, with this failure.

        Calls queue up: fail_next(500); fail_next(429) fails the next request, then the one after.
        """
        failure = Failure(status, code, subcode, message, retry_after, is_transient)
        self._failures.extend([None] * after + [failure] * times)

    def add_media(self, media_id: str, data: bytes, *, mime_type: str = "audio/ogg; codecs=opus") -> None:
        """Makes GET /{media_id} and its download URL serve data."""
        self._media[media_id] = _Media(data, mime_type)

    def messages(self, node: str | None = None) -> list[Any]:
        """Messages accepted (2xx) at /{node}/messages, oldest first; every node if None.

        Typing indicators and mark-as-read calls are not messages; they stay in `requests`.
        """
        return [
            r.json
            for r in self.requests
            if r.method == "POST"
            and r.path.endswith("/messages")
            and 200 <= r.status < 300
            and (node is None or r.node == node)
            and "sender_action" not in r.json
            and r.json.get("status") != "read"
        ]

    async def wait_for(self, count: int, *, node: str | None = None) -> list[Any]:
        """Waits until at least count messages were accepted (see messages) and returns them all.

        For system tests, where the outbox sends in the background after the webhook answered;
        bound it with the caller's own `async with asyncio.timeout(...)`.
        """
        if self._origin is None:
            raise RuntimeError("FakeMeta is not running; use it with `async with`")
        await self._wait_until(lambda: len(self.messages(node)) >= count, None)
        return self.messages(node)

    def reset(self) -> None:
        """Forgets recorded requests and queued failures (media stays)."""
        self.requests.clear()
        self._failures.clear()

    # ---- serving ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                body = None
        authorized = hmac.compare_digest(
            request.headers.get("Authorization", "").encode(), f"Bearer {self.access_token}".encode()
        )
        response = self._answer(request, body, authorized)
        parts = request.path.strip("/").split("/")
        node = parts[1] if len(parts) > 1 and parts[0] in (self.version, "media") else ""
        self.requests.append(RecordedRequest(request.method, request.path, node, body, authorized, response.status))
        self._recorded()
        return response

    def _answer(self, request: web.Request, body: Any, authorized: bool) -> web.Response:
        if self._failures and (failure := self._failures.pop(0)) is not None:
            return self._failure(failure)
        if not authorized:
            return self._error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        parts = request.path.strip("/").split("/")
        if parts[0] == "media" and len(parts) == 2 and request.method == "GET":
            media = self._media.get(parts[1])
            if media is None:
                return web.Response(status=404, text="not found")
            return web.Response(body=media.data, headers={"Content-Type": media.mime_type})
        if parts[0] != self.version or len(parts) < 2:
            return self._error(400, 2500, "Unknown path components")
        if request.method == "POST" and len(parts) == 3 and parts[2] == "messages":
            return self._send(parts[1], body)
        if request.method == "GET" and len(parts) == 2:
            return self._media_info(parts[1])
        return self._error(400, 100, "Unsupported request")

    def _send(self, node: str, body: Any) -> web.Response:
        if not isinstance(body, dict):
            return self._error(400, 100, "(#100) The parameter body must be a JSON object")
        try:
            if "messaging_product" in body:
                _require(body["messaging_product"] == "whatsapp", "messaging_product must be whatsapp")
                _check_whatsapp(body)
                if body.get("status") == "read":
                    return web.json_response({"success": True})
                wamid = f"wamid.FAKE{next(self._ids):08d}"
                return web.json_response(
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body["to"], "wa_id": body["to"].lstrip("+")}],
                        "messages": [{"id": wamid}],
                    }
                )
            _check_instagram(body)
        except (InvalidRequest, KeyError, TypeError, AttributeError) as exc:
            return self._error(400, 100, f"(#100) Invalid parameter: {exc}")
        recipient = body["recipient"]["id"]
        if "sender_action" in body:
            return web.json_response({"recipient_id": recipient})
        return web.json_response({"recipient_id": recipient, "message_id": f"m_FAKE{next(self._ids):08d}"})

    def _media_info(self, media_id: str) -> web.Response:
        media = self._media.get(media_id)
        if media is None:
            return self._error(400, 100, f"Unsupported get request. Object with ID '{media_id}' does not exist", 33)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.origin}/media/{media_id}",
                "mime_type": media.mime_type,
                "sha256": hashlib.sha256(media.data).hexdigest(),
                "file_size": len(media.data),
                "id": media_id,
            }
        )

    def _failure(self, failure: Failure) -> web.Response:
        headers = {} if failure.retry_after is None else {"Retry-After": f"{failure.retry_after:g}"}
        error: dict[str, Any] = {"message": failure.message, "type": "OAuthException", "fbtrace_id": "AfakeTrace"}
        if failure.code is not None:
            error["code"] = failure.code
        if failure.subcode is not None:
            error["error_subcode"] = failure.subcode
        if failure.is_transient:
            error["is_transient"] = True
        return web.json_response({"error": error}, status=failure.status, headers=headers)

    def _error(self, status: int, code: int, message: str, subcode: int | None = None) -> web.Response:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AfakeTrace"}
        if subcode is not None:
            error["error_subcode"] = subcode
        return web.json_response({"error": error}, status=status)
