"""A fake Telegram Bot API on loopback: records every call, answers like Telegram, fails on request.

    async with FakeTelegram() as fake:
        adapter = TelegramAdapter(TelegramConfig(token=fake.token, slug="t", api_base=fake.api_base), http=s)
        fake.fail_next(429, retry_after=3)
        ...
        assert fake.calls("sendMessage")[0].params == {"chat_id": 42, "text": "hi"}

It speaks the documented formats (core.telegram.org/bots/api#making-requests): parameters as
JSON, form or multipart, answers {"ok": true, "result": ...} or {"ok": false, "error_code",
"description", "parameters"?}. It also plays Telegram's side of the webhook: ``deliver`` POSTs
an Update to the URL given to setWebhook, with the secret header.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from tests.fakes.server import LoopbackServer

DEFAULT_TOKEN: Final = "123456789:AAFakeTokenForTestsOnly_-0123456789ab"
BOT_USER: Final[Mapping[str, Any]] = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Botrt Test",
    "username": "botrt_test_bot",
}
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
# Parameters that Telegram takes JSON-serialised when the request is a form.
_JSON_PARAMS: Final = frozenset({"reply_markup", "allowed_updates", "entities", "caption_entities"})
_SECRET: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Each send* method: the parameter naming the file and the result Message's field for it.
_MEDIA: Final[Mapping[str, str]] = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendAudio": "audio",
    "sendVoice": "voice",
    "sendVideo": "video",
    "sendSticker": "sticker",
}
_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One Bot API call as the fake received it, and the status it answered."""

    method: str
    params: dict[str, Any]
    content_type: str
    status: int


@dataclass(frozen=True, slots=True)
class Webhook:
    """What the last setWebhook asked for."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None


@dataclass(slots=True)
class _Rule:
    """An injected failure or delay for the next `remaining` calls (of one method, or all)."""

    remaining: int
    method: str | None
    status: int = 200
    retry_after: int | None = None
    description: str | None = None
    delay: float = 0.0

    def matches(self, method: str) -> bool:
        return self.remaining > 0 and self.method in (None, method)


class _Refusal(Exception):
    """A Bot API error answer, raised inside a method handler."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass(slots=True)
class _State:
    """Everything the fake remembers; emptied by reset()."""

    requests: list[ApiRequest] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    webhook: Webhook | None = None
    failures: list[_Rule] = field(default_factory=list)
    delays: list[_Rule] = field(default_factory=list)


class FakeTelegram(LoopbackServer):
    """The Bot API on 127.0.0.1, an ephemeral port; use as an async context manager."""

    def __init__(self, *, token: str = DEFAULT_TOKEN) -> None:
        super().__init__()
        self.token = token
        self._state = _State()
        self._files: dict[str, tuple[str, bytes]] = {}
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)

    def _routes(self) -> list[web.RouteDef]:
        return [
            web.post("/bot{token}/{method}", self._api),
            web.get("/bot{token}/{method}", self._api),
            web.get("/file/bot{token}/{path:.+}", self._download),
        ]

    @property
    def api_base(self) -> str:
        """The base URL to give the adapter (its api_base), e.g. http://127.0.0.1:40123."""
        return self.origin

    # ---- what tests read -----------------------------------------------------------------------

    @property
    def requests(self) -> list[ApiRequest]:
        """Every Bot API call received, in order, failed ones included."""
        return self._state.requests

    @property
    def downloads(self) -> list[str]:
        """The file paths downloaded from /file/bot<token>/..., in order."""
        return self._state.downloads

    @property
    def webhook(self) -> Webhook | None:
        """What the last successful setWebhook asked for."""
        return self._state.webhook

    def calls(self, method: str | None = None) -> list[ApiRequest]:
        """The calls of one method (all calls if None)."""
        return [r for r in self._state.requests if method is None or r.method == method]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """The texts of successful sendMessage calls, optionally to one chat."""
        return [
            r.params["text"]
            for r in self.calls("sendMessage")
            if r.status == 200 and (chat_id is None or str(r.params.get("chat_id")) == str(chat_id))
        ]

    async def wait_for(self, method: str | None = None, count: int = 1, within: float = 5.0) -> list[ApiRequest]:
        """Waits up to `within` seconds until at least count calls of method arrived; returns them."""
        try:
            await self._wait_until(lambda: len(self.calls(method)) >= count, within)
        except TimeoutError:
            seen = [r.method for r in self._state.requests]
            raise AssertionError(f"expected {count} {method or 'any'} call(s) within {within} s; got {seen}") from None
        return self.calls(method)

    # ---- what tests arrange --------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answers the next count calls (of method, or any) with an error in Telegram's format."""
        if status < 400:
            raise ValueError("fail_next needs an error status (4xx or 5xx)")
        if status == 429 and retry_after is None:
            retry_after = 1
        self._state.failures.append(
            _Rule(remaining=count, method=method, status=status, retry_after=retry_after, description=description)
        )

    def delay_next(self, seconds: float, count: int = 1, *, method: str | None = None) -> None:
        """Holds the answer to the next count calls for seconds (to provoke client timeouts)."""
        self._state.delays.append(_Rule(remaining=count, method=method, delay=seconds))

    def add_file(self, file_id: str, content: bytes, *, file_path: str | None = None) -> str:
        """Makes a file known to getFile and downloadable; returns its file_path."""
        path = file_path or f"documents/file_{len(self._files)}"
        self._files[file_id] = (path, content)
        return path

    def reset(self) -> None:
        """Forgets recorded calls, the webhook and pending failures and delays (files stay)."""
        self._state = _State()

    async def deliver(self, update: Mapping[str, Any], *, secret_token: str | None = None) -> int:
        """POSTs an Update to the registered webhook as Telegram does; returns the HTTP status."""
        hook = self._state.webhook
        if hook is None:
            raise RuntimeError("no webhook registered (call setWebhook first)")
        headers = {"Content-Type": "application/json"}
        secret = secret_token if secret_token is not None else hook.secret_token
        if secret is not None:
            headers[SECRET_HEADER] = secret
        return (await self._post(hook.url, json.dumps(update).encode(), headers)).status

    # ---- the server ----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        content_type = request.content_type
        try:
            params = await _read_params(request)
        except ValueError:
            return self._answer(method, {}, content_type, 400, _error(400, "Bad Request: can't parse JSON object"))
        if request.match_info["token"] != self.token:
            return self._answer(method, params, content_type, 401, _error(401, "Unauthorized"))
        rule = _take(self._state.failures, method)
        if rule is not None:
            description = rule.description or _default_description(rule.status, rule.retry_after)
            body = _error(rule.status, description, rule.retry_after)
            response = self._answer(method, params, content_type, rule.status, body)
        else:
            try:
                result = self._dispatch(method, params)
            except _Refusal as refusal:
                response = self._answer(
                    method, params, content_type, refusal.status, _error(refusal.status, refusal.description)
                )
            else:
                response = self._answer(method, params, content_type, 200, {"ok": True, "result": result})
        delay = _take(self._state.delays, method)
        if delay is not None:
            await self._sleep(delay.delay)
        return response

    def _answer(
        self, method: str, params: dict[str, Any], content_type: str, status: int, body: Mapping[str, Any]
    ) -> web.Response:
        """Records the call and builds the JSON answer."""
        self._state.requests.append(ApiRequest(method=method, params=params, content_type=content_type, status=status))
        self._recorded()
        return web.json_response(body, status=status)

    def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        """The result of a successful call, or _Refusal the way Telegram words it."""
        if method == "sendMessage":
            return self._send_message(params)
        if method in _MEDIA:
            return self._send_media(method, params)
        if method == "sendChatAction":
            _chat(params)
            if params.get("action") not in _ACTIONS:
                raise _Refusal(400, "Bad Request: wrong parameter action in request")
            return True
        if method == "setWebhook":
            return self._set_webhook(params)
        if method == "deleteWebhook":
            self._state.webhook = None
            return True
        if method == "getFile":
            return self._get_file(params)
        if method == "getMe":
            return dict(BOT_USER)
        raise _Refusal(404, "Not Found")

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        """A spec-complete Message sent by the bot."""
        chat = _chat(params)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": dict(BOT_USER),
            "chat": {"id": chat, "type": "private" if isinstance(chat, int) and chat > 0 else "supergroup"},
            "date": int(time.time()),
            **content,
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _Refusal(400, "Bad Request: message text is empty")
        if _utf16_len(text) > 4096:
            raise _Refusal(400, "Bad Request: message is too long")
        _check_markup(params.get("reply_markup"))
        return self._message(params, text=text)

    def _send_media(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        name = _MEDIA[method]
        if not params.get(name):
            raise _Refusal(400, f"Bad Request: there is no {name} in the request")
        caption = params.get("caption")
        if caption is not None and _utf16_len(str(caption)) > 1024:
            raise _Refusal(400, "Bad Request: message caption is too long")
        _check_markup(params.get("reply_markup"))
        n = next(self._file_ids)
        ids = {"file_id": f"fake-{name}-{n}", "file_unique_id": f"fake-unique-{name}-{n}"}
        media: Any = {
            "photo": [{**ids, "width": 800, "height": 600}],
            "document": ids,
            "audio": {**ids, "duration": 1},
            "voice": {**ids, "duration": 1},
            "video": {**ids, "width": 1280, "height": 720, "duration": 1},
            "sticker": {**ids, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
        }[name]
        extra = {"caption": caption} if caption is not None else {}
        return self._message(params, **{name: media}, **extra)

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            # Real Telegram also insists on HTTPS; loopback tests cannot, so plain http passes here.
            raise _Refusal(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and _SECRET.fullmatch(secret)):
            raise _Refusal(400, "Bad Request: secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        self._state.webhook = Webhook(url=url, secret_token=secret, allowed_updates=allowed)
        return True

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id")
        if not isinstance(file_id, str) or file_id not in self._files:
            raise _Refusal(400, "Bad Request: invalid file_id")
        path, content = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": f"unique-{file_id}", "file_size": len(content), "file_path": path}

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if request.match_info["token"] != self.token:
            return web.json_response(_error(401, "Unauthorized"), status=401)
        for file_path, content in self._files.values():
            if file_path == path:
                self._state.downloads.append(path)
                return web.Response(body=content, content_type="application/octet-stream")
        return web.json_response(_error(404, "Not Found"), status=404)


# ---- request parsing and checks ---------------------------------------------------------------


async def _read_params(request: web.Request) -> dict[str, Any]:
    """The call's parameters from the query string and a JSON, form or multipart body."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.read()
        if body:
            decoded = json.loads(body)
            if isinstance(decoded, dict):
                params.update(decoded)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            # Uploaded files are recorded by content; the rest are strings as sent.
            params[name] = value.file.read() if isinstance(value, web.FileField) else value
    for name in _JSON_PARAMS & params.keys():
        if isinstance(params[name], str):
            params[name] = json.loads(params[name])
    return params


def _chat(params: Mapping[str, Any]) -> int | str:
    """The chat_id parameter, as Telegram reads it."""
    chat = params.get("chat_id")
    if chat is None or chat == "":
        raise _Refusal(400, "Bad Request: chat_id is empty")
    if isinstance(chat, str) and chat.lstrip("-").isdigit():
        return int(chat)
    if isinstance(chat, int) or (isinstance(chat, str) and chat.startswith("@")):
        return chat
    raise _Refusal(400, "Bad Request: chat not found")


def _check_markup(markup: Any) -> None:
    """Refuses inline keyboards Telegram would refuse: callback_data must be 1-64 bytes."""
    if markup is None:
        return
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        raise _Refusal(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not button.get("text"):
                raise _Refusal(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise _Refusal(400, "Bad Request: BUTTON_DATA_INVALID")


def _take(rules: list[_Rule], method: str) -> _Rule | None:
    """Consumes one use of the first rule that applies to method."""
    for rule in rules:
        if rule.matches(method):
            rule.remaining -= 1
            return rule
    return None


def _error(status: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    """Telegram's error envelope."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


def _default_description(status: int, retry_after: int | None) -> str:
    if status == 429:
        return f"Too Many Requests: retry after {retry_after}"
    return _DESCRIPTIONS.get(status, f"Error {status}")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# ---- Updates as Telegram would deliver them ---------------------------------------------------


def user(user_id: int = 111111111, first_name: str = "Ada") -> dict[str, Any]:
    """A spec-complete User (a human)."""
    return {"id": user_id, "is_bot": False, "first_name": first_name}


def text_update(update_id: int, chat_id: int, text: str, *, first_name: str = "Ada") -> dict[str, Any]:
    """A spec-complete Update with a private-chat text message."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": user(chat_id, first_name),
            "chat": {"id": chat_id, "first_name": first_name, "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }


def callback_update(
    update_id: int, chat_id: int, data: str, *, buttons: Mapping[str, str] | None = None, first_name: str = "Ada"
) -> dict[str, Any]:
    """A spec-complete Update for a press of the button with callback_data data.

    buttons maps callback_data to title for the keyboard of the message pressed on.
    """
    keyboard = [[{"text": title, "callback_data": key}] for key, title in (buttons or {data: data}).items()]
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq{update_id}",
            "from": user(chat_id, first_name),
            "message": {
                "message_id": update_id,
                "from": dict(BOT_USER),
                "chat": {"id": chat_id, "first_name": first_name, "type": "private"},
                "date": int(time.time()),
                "text": "Choose:",
                "reply_markup": {"inline_keyboard": keyboard},
            },
            "chat_instance": f"ci{chat_id}",
            "data": data,
        },
    }
