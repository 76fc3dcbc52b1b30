"""Fake platform APIs for load tests, in their own process so they never slow the load generator.

Speaks Telegram's sendMessage / sendChatAction ({"ok":true,"result":Message}), the Graph API's
POST /{version}/{node}/messages for WhatsApp (node: the phone number id; {"messaging_product",
"contacts", "messages":[{"id"}]}) and Instagram (node: the account; {"recipient_id",
"message_id"}), Slack's POST /api/chat.postMessage ({"ok":true,"channel","ts","message"}) and
Twilio's Messages.json, and records when each reply "echo: m<update_id>" arrived (wall clock,
comparable across processes); on SIGTERM it writes {update_id: time} as JSON to --out while
shutting down.

It is a bare asyncio.Protocol over httptools (llhttp) with msgspec JSON, not an aiohttp app:
at 1,000+ replies/s aiohttp's request machinery cost ~14% of a core on a 2-core machine that
the server under test needs. Keep-alive HTTP/1.1, chunked request bodies and pipelining are
handled by llhttp; responses always carry Content-Length.

    python -m loadtests.fake_bot_api --port 8081 --token T --out replies.json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import signal
import sys
import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, unquote

import httptools
import msgspec

ECHO = re.compile(r"echo: m(\d+)")
# The four routes, tried in this order as aiohttp's router did (so /bot.../messages is Telegram's).
ROUTES = re.compile(
    r"(?P<slack>/api/chat\.postMessage)"
    r"|/bot(?P<token>[^{}/]+)/(?P<method>[^{}/]+)"
    r"|/(?P<version>[^{}/]+)/(?P<node>[^{}/]+)/messages"
    r"|(?P<twilio>/2010-04-01/Accounts/[^{}/]+/Messages\.json)"
)
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 500: "Internal Server Error"}
ENCODE = msgspec.json.Encoder().encode
DECODE = msgspec.json.Decoder().decode

Json = dict[str, object]
# (status, JSON body) for a request's path match, headers (lower-cased names) and body
Handler = Callable[[re.Match[str], dict[bytes, bytes], bytes], tuple[int, Json]]


class Platforms:
    """The four platforms' send endpoints as pure functions of a request, plus the reply log."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.bearer = f"Bearer {token}".encode()
        self.replies: dict[int, float] = {}  # update id -> wall-clock time its echo arrived
        self.ids = itertools.count(1)

    def route(self, path: str) -> tuple[Handler, re.Match[str]] | None:
        match = ROUTES.fullmatch(path)
        if match is None:
            return None
        if match["slack"]:
            return self.slack, match
        if match["token"]:
            return self.telegram, match
        if match["node"]:
            return self.graph, match
        return self.twilio, match

    def note(self, text: object) -> None:
        match = ECHO.fullmatch(str(text))
        if match:
            self.replies[int(match.group(1))] = time.time()

    def graph(self, match: re.Match[str], headers: dict[bytes, bytes], body: bytes) -> tuple[int, Json]:
        # Graph API: POST /{version}/{node}/messages with a bearer token. The node is a WhatsApp
        # phone number id (body with messaging_product) or an Instagram account (Send API).
        if headers.get(b"authorization") != self.bearer:
            return 401, {"error": {"message": "bad token", "code": 190}}
        request = DECODE(body)
        if "messaging_product" not in request:
            recipient = request["recipient"]["id"]
            if "sender_action" in request:  # typing_on / mark_seen: no message id
                return 200, {"recipient_id": recipient}
            self.note(request.get("message", {}).get("text", ""))
            return 200, {"recipient_id": recipient, "message_id": f"mid.out{next(self.ids)}"}
        self.note(request.get("text", {}).get("body", ""))
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": request["to"], "wa_id": request["to"]}],
            "messages": [{"id": f"wamid.out{next(self.ids)}"}],
        }

    def slack(self, match: re.Match[str], headers: dict[bytes, bytes], body: bytes) -> tuple[int, Json]:
        # Web API: POST /api/chat.postMessage, bearer bot token, JSON (or form) body. Slack
        # reports refusals as HTTP 200 {"ok": false, "error": ...}.
        if headers.get(b"authorization") != self.bearer:
            return 200, {"ok": False, "error": "invalid_auth"}
        if _mimetype(headers) == b"application/json":
            request = DECODE(body)
        else:
            request = _form(body)
        text = str(request.get("text", ""))
        self.note(text)
        ts = f"{int(time.time())}.{next(self.ids):06d}"
        message = {"type": "message", "text": text, "user": "U0LOADBOT", "bot_id": "B0LOAD", "ts": ts}
        return 200, {"ok": True, "channel": request["channel"], "ts": ts, "message": message}

    def twilio(self, match: re.Match[str], headers: dict[bytes, bytes], body: bytes) -> tuple[int, Json]:
        # POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form encoded, Basic auth.
        form = _form(body)
        self.note(form.get("Body", ""))
        return 201, {"sid": f"SM{next(self.ids):032d}", "status": "queued", "to": form.get("To")}

    def telegram(self, match: re.Match[str], headers: dict[bytes, bytes], body: bytes) -> tuple[int, Json]:
        if match["token"] != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        request = DECODE(body)
        if match["method"] != "sendMessage":
            return 200, {"ok": True, "result": True}
        text = request.get("text", "")
        self.note(text)
        message = {
            "message_id": next(self.ids),
            "date": int(time.time()),
            "chat": {"id": request["chat_id"], "type": "private"},
            "text": text,
        }
        return 200, {"ok": True, "result": message}


def _mimetype(headers: dict[bytes, bytes]) -> bytes:
    return headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()


def _form(body: bytes) -> dict[str, str]:
    """An urlencoded form, first value of each field (as aiohttp's MultiDict.get gives it)."""
    return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


class _Date:
    """The Date header's value, formatted once a second rather than once a response."""

    second = -1
    value = b""

    @classmethod
    def now(cls) -> bytes:
        second = int(time.time())
        if second != cls.second:
            cls.second, cls.value = second, formatdate(second, usegmt=True).encode()
        return cls.value


class _Connection(asyncio.Protocol):
    """One client connection; llhttp calls back as it parses, each request answered when complete."""

    def __init__(self, platforms: Platforms) -> None:
        self.platforms = platforms
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._write(400, b"400: Bad Request", b"text/plain; charset=utf-8", keep_alive=False)

    # httptools callbacks; URL and body may arrive in pieces, each header arrives whole.
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = {}
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_headers_complete(self) -> None:
        if self.headers.get(b"expect", b"").lower() == b"100-continue" and self.transport:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        path = unquote(self.url.split(b"?", 1)[0].decode("latin-1"))
        routed = self.platforms.route(path)
        if routed is None:
            self._write(404, b"404: Not Found", b"text/plain; charset=utf-8", keep_alive)
            return
        if self.parser.get_method() != b"POST":
            self._write(405, b"405: Method Not Allowed", b"text/plain; charset=utf-8", keep_alive)
            return
        handler, match = routed
        try:
            status, payload = handler(match, self.headers, b"".join(self.body))
        except Exception:  # a malformed body: aiohttp answered these 500 too
            self._write(500, b"500: Internal Server Error", b"text/plain; charset=utf-8", keep_alive)
            return
        self._write(status, ENCODE(payload), b"application/json; charset=utf-8", keep_alive)

    def _write(self, status: int, body: bytes, content_type: bytes, keep_alive: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        connection = b""
        if not keep_alive:
            connection = b"Connection: close\r\n"
        elif self.parser.get_http_version() == "1.0":
            connection = b"Connection: keep-alive\r\n"
        head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nDate: %s\r\n%s\r\n" % (
            status, REASONS[status].encode(), content_type, len(body), _Date.now(), connection,
        )
        self.transport.write(head + body)
        if not keep_alive:
            self.transport.close()


async def serve(port: int, platforms: Platforms) -> None:
    """Serves until SIGTERM (or SIGINT)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await loop.create_server(lambda: _Connection(platforms), "127.0.0.1", port, backlog=1024)
    await stop.wait()
    server.close()  # open connections need no goodbye: the server under test has stopped first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    platforms = Platforms(args.token)
    asyncio.run(serve(args.port, platforms))
    args.out.write_bytes(ENCODE(platforms.replies))  # int keys become strings, as json.dumps wrote them
    return 0


if __name__ == "__main__":
    sys.exit(main())
