"""Helpers of the Slack tests: recorded payloads, signed requests, a minimal webhook route."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from adapters.base import Parsed, RawRequest
from adapters.errors import PayloadInvalid, SignatureInvalid, SignatureMissing
from adapters.slack import SlackAdapter
from tests.fakes.slack import interaction_body, slack_headers

DATA: Final = Path(__file__).resolve().parents[2] / "data" / "slack"
SECRET: Final = "8f742231b10e8888abcd99yyyzzz85a5"
HOOK_URL: Final = "https://bots.example.com/hooks/slack/team"


def recorded(name: str) -> bytes:
    """A recorded payload from tests/data/slack (shaped after docs.slack.dev's examples)."""
    return (DATA / f"{name}.json").read_bytes()


def recorded_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(recorded(name))
    return data


def request(body: bytes, *, form: bool = False, headers: dict[str, str] | None = None) -> RawRequest:
    """A POST as the route hands it to the adapter: header names lower-cased, unsigned."""
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    return RawRequest(
        method="POST",
        url=HOOK_URL,
        headers={"content-type": content_type, **(headers or {})},
        query=[],
        body=body,
    )


def signed(body: bytes, *, ts: int, form: bool = False, secret: str = SECRET) -> RawRequest:
    """A request signed as Slack signs it (by the fake's independent signer)."""
    headers = {k.lower(): v for k, v in slack_headers(secret, body, ts=ts, form=form).items()}
    return request(body, form=form, headers=headers)


def interaction(payload: dict[str, Any]) -> RawRequest:
    """An unsigned interactivity request (form field `payload`)."""
    return request(interaction_body(payload), form=True)


@dataclass
class Hook:
    """A running webhook route for one adapter and what it parsed."""

    url: str
    parsed: list[Parsed] = field(default_factory=list)


@asynccontextmanager
async def serve(adapter: SlackAdapter, path: str = "/hooks/slack/team") -> AsyncIterator[Hook]:
    """The ingress in miniature: verify, parse, answer the handshake or the ack."""
    hook = Hook(url="")

    async def handle(http: web.Request) -> web.Response:
        raw = RawRequest(
            method=http.method,
            url=hook.url.removesuffix(path) + http.path_qs,
            headers={k.lower(): v for k, v in http.headers.items()},
            query=list(http.query.items()),
            body=await http.read(),
        )
        try:
            adapter.verify(raw, time.time())
            parsed = adapter.parse(raw)
        except SignatureMissing:
            return web.Response(status=401)
        except SignatureInvalid:
            return web.Response(status=403)
        except PayloadInvalid:
            return web.Response(status=400)
        hook.parsed.append(parsed)
        reply = parsed.reply or adapter.ack(parsed)
        return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)

    app = web.Application()
    app.router.add_post(path, handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    hook.url = f"http://{host}:{port}{path}"
    try:
        yield hook
    finally:
        await runner.cleanup()
