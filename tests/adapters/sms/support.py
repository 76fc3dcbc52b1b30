"""Helpers of the SMS tests: recorded form bodies, requests as the route builds them, a webhook route."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl

from aiohttp import web

from adapters.base import Parsed, RawRequest
from adapters.errors import PayloadInvalid, SignatureInvalid, SignatureMissing
from adapters.sms import SmsAdapter

DATA: Final = Path(__file__).resolve().parents[2] / "data" / "sms"
HOOK_URL: Final = "https://bots.example.com/hooks/sms/support"
FORM: Final = "application/x-www-form-urlencoded"


def recorded(name: str) -> bytes:
    """A recorded form body from tests/data/sms (parameters as Twilio's webhook docs list them)."""
    return (DATA / f"{name}.txt").read_bytes()


def recorded_params(name: str) -> list[tuple[str, str]]:
    return parse_qsl(recorded(name).decode(), keep_blank_values=True)


def form_request(body: bytes, *, url: str = HOOK_URL, signature: str | None = None, **headers: str) -> RawRequest:
    """A form POST as the route hands it to the adapter (header names lower-cased)."""
    all_headers = {"content-type": FORM, **{k.replace("_", "-"): v for k, v in headers.items()}}
    if signature is not None:
        all_headers["x-twilio-signature"] = signature
    return RawRequest(method="POST", url=url, headers=all_headers, query=_query(url), body=body)


def get_request(url: str, *, signature: str | None = None) -> RawRequest:
    headers = {"x-twilio-signature": signature} if signature is not None else {}
    return RawRequest(method="GET", url=url, headers=headers, query=_query(url), body=b"")


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(url.partition("?")[2], keep_blank_values=True)


@dataclass
class Hook:
    """A running webhook route for one adapter and what it parsed."""

    url: str
    parsed: list[Parsed] = field(default_factory=list)


@asynccontextmanager
async def serve(adapter: SmsAdapter, path: str = "/hooks/sms/support") -> AsyncIterator[Hook]:
    """The ingress in miniature: verify, parse, answer the adapter's ack."""
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
        reply = adapter.ack(parsed)
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
