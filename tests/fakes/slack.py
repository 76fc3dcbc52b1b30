"""A fake Slack Web API on loopback, and Slack's side of the Events API webhook.

    async with FakeSlack(bot_token="xoxb-test") as fake:
        adapter = SlackAdapter(SlackConfig(slug="s", bot_token=fake.bot_token,
                                           signing_secret=fake.signing_secret, api_base=fake.api_base), http=s)
        fake.fail_next("http_429", retry_after=3)
        ...
        assert fake.messages == [{"channel": "D1", "text": "hi"}]
        status = (await fake.deliver(hook_url, event_callback(message_event(text="hello")))).status

The Web API part answers chat.postMessage and auth.test as Slack documents them: the token in
"Authorization: Bearer", a JSON or form body, HTTP 200 with {"ok": true, ...} or
{"ok": false, "error": "..."} (not_authed, invalid_auth, channel_not_found, no_text,
msg_too_long, invalid_blocks), and 429 with Retry-After when rate limited. It checks Block Kit
limits, so a renderer that breaks them fails loudly. ``deliver`` signs requests the way Slack
does (v0 HMAC-SHA256 over "v0:{ts}:{body}"), independently of the adapter's code.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from tests.fakes.server import Delivery, LoopbackServer

DEFAULT_BOT_TOKEN: Final = "xoxb-0000000000-0000000000000-FakeSlackTokenForTests"
DEFAULT_SIGNING_SECRET: Final = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM_ID: Final = "T0FAKETEAM"
BOT_USER_ID: Final = "U0FAKEBOT"
BOT_ID: Final = "B0FAKEBOT"
# Block Kit and chat.postMessage limits (docs.slack.dev/reference/block-kit, chat.postMessage).
MAX_TEXT: Final = 40_000
MAX_BLOCKS: Final = 50
MAX_SECTION_TEXT: Final = 3000
MAX_ACTIONS: Final = 25
MAX_BUTTON_TEXT: Final = 75
MAX_BUTTON_VALUE: Final = 2000
MAX_ACTION_ID: Final = 255

SlackFailure = Literal["http_429", "ratelimited", "http_500", "error"]


def sign_slack(secret: str, ts: int | str, body: bytes) -> str:
    """The X-Slack-Signature Slack sends: "v0=" + hex HMAC-SHA256(secret, "v0:{ts}:{body}")."""
    base = f"v0:{ts}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_headers(secret: str, body: bytes, *, ts: int | None = None, form: bool = False) -> dict[str, str]:
    """The headers of a signed Events API (or, with form, interactivity) request."""
    stamp = int(time.time()) if ts is None else ts
    return {
        "Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign_slack(secret, stamp, body),
    }


# ---- payload builders (shapes from docs.slack.dev/reference/events) --------------------------

_ts_counter = itertools.count(1)


def next_ts() -> str:
    """A fresh Slack ts ("1700000000.000123"), unique in this process."""
    return f"{1_700_000_000 + next(_ts_counter)}.{next(_ts_counter) % 1_000_000:06d}"


def message_event(
    *,
    text: str = "hello",
    user: str = "U0USER0001",
    channel: str = "D0DMCHANNEL",
    channel_type: str = "im",
    ts: str | None = None,
    thread_ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A user's `message` event (message.im by default)."""
    stamp = ts or next_ts()
    event: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": stamp,
        "event_ts": stamp,
        "channel": channel,
        "channel_type": channel_type,
        "team": TEAM_ID,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return event


def event_callback(
    event: Mapping[str, Any], *, event_id: str | None = None, bot_user_id: str = BOT_USER_ID
) -> dict[str, Any]:
    """The event_callback envelope around an event."""
    return {
        "token": "deprecated-verification-token",
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "api_app_id": "A0FAKEAPP",
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def block_actions(
    *,
    value: str,
    text: str,
    channel: str = "D0DMCHANNEL",
    user: str = "U0USER0001",
    message_ts: str | None = None,
    thread_ts: str | None = None,
    trigger_id: str | None = None,
    action_id: str = "botrt_0",
) -> dict[str, Any]:
    """A block_actions payload for one button click on a bot message."""
    stamp = message_ts or next_ts()
    message: dict[str, Any] = {"type": "message", "ts": stamp, "bot_id": BOT_ID, "user": BOT_USER_ID}
    container: dict[str, Any] = {"type": "message", "message_ts": stamp, "channel_id": channel, "is_ephemeral": False}
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
        container["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "user", "name": "user", "team_id": TEAM_ID},
        "api_app_id": "A0FAKEAPP",
        "token": "deprecated-verification-token",
        "container": container,
        "trigger_id": trigger_id or f"{next(_ts_counter)}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "channel": {"id": channel, "name": "directmessage"},
        "message": message,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": text, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": next_ts(),
            }
        ],
    }


def interaction_body(payload: Mapping[str, Any]) -> bytes:
    """An interactivity request body: the payload JSON in a `payload` form field."""
    return urlencode({"payload": json.dumps(payload)}).encode()


# ---- the fake ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlackCall:
    """One Web API call as the fake received it, and what it answered."""

    method: str
    body: dict[str, Any]
    authorization: str | None
    content_type: str
    status: int
    error: str | None  # the "error" of an {"ok": false} answer
    ts: str | None  # the posted message's ts when it was accepted


@dataclass(frozen=True, slots=True)
class FileDownload:
    """One GET of a hosted file's url_private(_download), and whether it carried the bot token."""

    path: str
    authorization: str | None
    authorized: bool


@dataclass(frozen=True, slots=True)
class _HostedFile:
    data: bytes
    mimetype: str


@dataclass(slots=True)
class _Rule:
    remaining: int
    failure: SlackFailure
    retry_after: int
    error: str


@dataclass(slots=True)
class _State:
    requests: list[SlackCall] = field(default_factory=list)
    failures: list[_Rule] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    downloads: list[FileDownload] = field(default_factory=list)


class _Refusal(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class FakeSlack(LoopbackServer):
    """The Slack Web API on 127.0.0.1, an ephemeral port; use as an async context manager."""

    def __init__(
        self,
        *,
        bot_token: str = DEFAULT_BOT_TOKEN,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        bot_user_id: str = BOT_USER_ID,
        bot_id: str = BOT_ID,
    ) -> None:
        super().__init__()
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self._state = _State()
        self._ts = itertools.count(1)
        self._files: dict[str, _HostedFile] = {}

    def _routes(self) -> list[web.RouteDef]:
        return [web.post("/api/{method}", self._api), web.get("/files-pri/{owner}/{tail:.*}", self._file)]

    @property
    def api_base(self) -> str:
        """The adapter's api_base, e.g. http://127.0.0.1:40123/api (methods are appended)."""
        return f"{self.origin}/api"

    # ---- what tests read -----------------------------------------------------------------------

    @property
    def requests(self) -> list[SlackCall]:
        """Every Web API call received, in order, refused ones included."""
        return self._state.requests

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The bodies of accepted chat.postMessage calls, in order."""
        return [r.body for r in self._state.requests if r.method == "chat.postMessage" and r.ts is not None]

    def texts(self, channel: str | None = None) -> list[str]:
        """The `text` of accepted messages, optionally to one channel."""
        return [m["text"] for m in self.messages if channel is None or m.get("channel") == channel]

    @property
    def downloads(self) -> list[FileDownload]:
        """Every GET of a hosted file, in order, unauthorised ones included."""
        return self._state.downloads

    async def wait_for(self, count: int = 1, *, within: float = 5.0) -> list[dict[str, Any]]:
        """Waits until at least count messages were accepted and returns them."""
        try:
            await self._wait_until(lambda: len(self.messages) >= count, within)
        except TimeoutError:
            raise AssertionError(f"expected {count} message(s) within {within} s; got {self.messages}") from None
        return self.messages

    # ---- what tests arrange --------------------------------------------------------------------

    def fail_next(
        self, failure: SlackFailure, *, times: int = 1, retry_after: int = 1, error: str = "channel_not_found"
    ) -> None:
        """Refuses the next `times` chat.postMessage calls.

        http_429: HTTP 429 + Retry-After and {"ok": false, "error": "ratelimited"};
        ratelimited: HTTP 200 {"ok": false, "error": "ratelimited"} without Retry-After;
        http_500: HTTP 500 with a non-JSON body; error: HTTP 200 {"ok": false, "error": error}.
        """
        self._state.failures.append(_Rule(remaining=times, failure=failure, retry_after=retry_after, error=error))

    def add_file(self, file_id: str, data: bytes, *, name: str, mimetype: str) -> dict[str, Any]:
        """Hosts a file and returns its file object, as a message event's files[] carries it.

        url_private and url_private_download point at this fake, under files-pri/ as Slack's
        do; fetching them takes "Authorization: Bearer <bot token>". Without it Slack answers
        an HTML sign-in page with status 200 rather than an error (known from practice, not
        from its reference), and so does the fake: a client must not trust a 200 alone.
        """
        self._files[file_id] = _HostedFile(data, mimetype)
        base = f"{self.origin}/files-pri/{TEAM_ID}-{file_id}"
        return {
            "id": file_id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rpartition(".")[2],
            "user": "U0USER0001",
            "mode": "hosted",
            "size": len(data),
            "url_private": f"{base}/{name}",
            "url_private_download": f"{base}/download/{name}",
            "permalink": f"https://fake.slack.com/files/U0USER0001/{file_id}/{name}",
        }

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """Holds the next `times` answers for seconds (to provoke client timeouts)."""
        self._state.delays.extend([seconds] * times)

    def clear(self) -> None:
        """Forgets recorded calls and pending failures and delays."""
        self._state = _State()

    async def deliver(
        self,
        url: str,
        payload: Mapping[str, Any] | bytes,
        *,
        interaction: bool = False,
        ts: int | None = None,
        retry_num: int | None = None,
        secret: str | None = None,
    ) -> Delivery:
        """POSTs a signed Events API request (or, with interaction, a form `payload`) to url."""
        if isinstance(payload, bytes):
            body = payload
        else:
            body = interaction_body(payload) if interaction else json.dumps(payload).encode()
        headers = slack_headers(secret or self.signing_secret, body, ts=ts, form=interaction)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self._post(url, body, headers)

    # ---- the server ----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        content_type = request.content_type
        raw = await request.read()
        try:
            body = _read_body(raw, content_type)
        except ValueError:
            return self._answer(method, {}, request, 200, {"ok": False, "error": "invalid_json"})
        response = self._respond(method, body, request)
        if self._state.delays:
            await self._sleep(self._state.delays.pop(0))
        return response

    async def _file(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization")
        authorized = authorization is not None and hmac.compare_digest(
            authorization.encode(), f"Bearer {self.bot_token}".encode()
        )
        self._state.downloads.append(FileDownload(request.path, authorization, authorized))
        self._recorded()
        if not authorized:
            sign_in = "<!DOCTYPE html><html><title>Sign in | Slack</title></html>"
            return web.Response(text=sign_in, content_type="text/html")
        file_id = request.match_info["owner"].rpartition("-")[2]
        hosted = self._files.get(file_id)
        if hosted is None:
            return web.Response(status=404, text="file not found")
        return web.Response(body=hosted.data, content_type=hosted.mimetype)

    def _respond(self, method: str, body: dict[str, Any], request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization")
        # The token may also come as a body parameter (form calls).
        token = authorization.removeprefix("Bearer ") if authorization else body.get("token")
        if not token:
            return self._answer(method, body, request, 200, {"ok": False, "error": "not_authed"})
        if token != self.bot_token:
            return self._answer(method, body, request, 200, {"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            answer = {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake",
                "user": "botrt",
                "team_id": TEAM_ID,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
            }
            return self._answer(method, body, request, 200, answer)
        if method != "chat.postMessage":
            return self._answer(method, body, request, 200, {"ok": False, "error": "unknown_method"})
        rule = next((r for r in self._state.failures if r.remaining > 0), None)
        if rule is not None:
            rule.remaining -= 1
            return self._fail(method, body, request, rule)
        try:
            _check_message(body)
        except _Refusal as refusal:
            return self._answer(method, body, request, 200, {"ok": False, "error": refusal.error})
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        message = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "text": body.get("text", ""),
            "ts": ts,
        }
        answer = {"ok": True, "channel": body["channel"], "ts": ts, "message": message}
        return self._answer(method, body, request, 200, answer, ts=ts)

    def _fail(self, method: str, body: dict[str, Any], request: web.Request, rule: _Rule) -> web.Response:
        match rule.failure:
            case "http_429":
                answer = {"ok": False, "error": "ratelimited"}
                return self._answer(method, body, request, 429, answer, headers={"Retry-After": str(rule.retry_after)})
            case "ratelimited":
                return self._answer(method, body, request, 200, {"ok": False, "error": "ratelimited"})
            case "http_500":
                self._record(method, body, request, 500, None, None)
                return web.Response(status=500, text="Internal Server Error")
            case "error":
                return self._answer(method, body, request, 200, {"ok": False, "error": rule.error})

    def _record(
        self, method: str, body: dict[str, Any], request: web.Request, status: int, error: str | None, ts: str | None
    ) -> None:
        call = SlackCall(
            method=method,
            body=body,
            authorization=request.headers.get("Authorization"),
            content_type=request.content_type,
            status=status,
            error=error,
            ts=ts,
        )
        self._state.requests.append(call)
        self._recorded()

    def _answer(
        self,
        method: str,
        body: dict[str, Any],
        request: web.Request,
        status: int,
        answer: Mapping[str, Any],
        *,
        ts: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        error = None if answer.get("ok") else str(answer.get("error"))
        self._record(method, body, request, status, error, ts)
        return web.json_response(answer, status=status, headers=headers)


def _read_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if content_type == "application/json":
        decoded = json.loads(raw or b"{}")
        if not isinstance(decoded, dict):
            raise ValueError("not a JSON object")
        return decoded
    fields: dict[str, Any] = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    if isinstance(fields.get("blocks"), str):
        fields["blocks"] = json.loads(fields["blocks"])
    return fields


def _check_blocks(blocks: Sequence[Any]) -> None:
    if not isinstance(blocks, list) or not 0 < len(blocks) <= MAX_BLOCKS:
        raise _Refusal("invalid_blocks")
    action_ids: set[str] = set()
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "section":
            text = block.get("text") or {}
            if (
                text.get("type") not in ("mrkdwn", "plain_text")
                or not 0 < len(text.get("text", "")) <= MAX_SECTION_TEXT
            ):
                raise _Refusal("invalid_blocks")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= MAX_ACTIONS:
                raise _Refusal("invalid_blocks")
            for element in elements:
                label = (element.get("text") or {}).get("text", "")
                action_id = element.get("action_id", "")
                if (
                    element.get("type") != "button"
                    or (element.get("text") or {}).get("type") != "plain_text"
                    or not 0 < len(label) <= MAX_BUTTON_TEXT
                    or len(element.get("value", "")) > MAX_BUTTON_VALUE
                    or len(action_id) > MAX_ACTION_ID
                    or action_id in action_ids
                ):
                    raise _Refusal("invalid_blocks")
                action_ids.add(action_id)
        elif kind == "image":
            has_source = bool(block.get("image_url")) != bool(block.get("slack_file"))
            if not has_source or not block.get("alt_text"):
                raise _Refusal("invalid_blocks")
        else:
            raise _Refusal("invalid_blocks")


def _check_message(body: Mapping[str, Any]) -> None:
    """Refuses a chat.postMessage body the way Slack would."""
    if not body.get("channel"):
        raise _Refusal("channel_not_found")
    text, blocks = body.get("text"), body.get("blocks")
    if not text and not blocks:
        raise _Refusal("no_text")
    if text is not None and len(text) > MAX_TEXT:
        raise _Refusal("msg_too_long")
    if blocks is not None:
        _check_blocks(blocks)
