"""The http node's port and its pure parts: request rendering and JSON-path mapping.

The engine does no network I/O itself. HttpCaller has the same shape as the agents' port
(engine.agents.ports.HttpCaller), so botrt.llm_transport.AiohttpTransport, which already
sends the agents' HTTP tools with timeouts and a response size cap, serves http nodes too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Final, Protocol
from urllib.parse import urlencode

import msgspec

from engine.errors import HttpCallError
from engine.flowspec import HttpNode
from engine.templates import render, render_value

_STEP: Final = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]|\[[\"']([^\"']+)[\"']\]")
_SECRET: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ENCODER: Final = msgspec.json.Encoder()
_DECODER: Final = msgspec.json.Decoder()


class HttpAnswer(Protocol):
    """A response as the caller returns it; any status is an answer."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> bytes: ...


class HttpCaller(Protocol):
    """Sends a request; only when no answer came does it raise (a BotrtError, or TimeoutError)."""

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None, timeout_s: float
    ) -> HttpAnswer: ...


class HttpRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A rendered request, ready for the caller."""

    method: str
    url: str
    headers: dict[str, str] = {}
    body: bytes | None = None
    timeout_s: float = 10.0


def build_request(node: HttpNode, context: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> HttpRequest:
    """Renders URL, query, headers and JSON or body; "${NAME}" in headers comes from the environment.

    Secrets are resolved here, at call time, so they never sit in the flow JSON stored in bot_flows.
    Raises HttpCallError when the URL is not http(s) or a referenced variable is unset.
    """
    url = render(node.url, context).strip()
    if not url.startswith(("http://", "https://")):
        raise HttpCallError(url[:100], "the rendered url does not start with http:// or https://")
    if node.query:
        params = urlencode({k: render(v, context) for k, v in node.query.items()})
        url = f"{url}{'&' if '?' in url else '?'}{params}"
    env = os.environ if environ is None else environ
    headers = {k: _secrets(render(v, context), env, url) for k, v in node.headers.items()}
    body: bytes | None = None
    if node.json is not None:
        body = _ENCODER.encode(_render_json(node.json, context))
        headers.setdefault("Content-Type", "application/json")
    elif node.body is not None:
        body = render(node.body, context).encode()
    return HttpRequest(method=node.method, url=url, headers=headers, body=body, timeout_s=node.timeout)


def _secrets(value: str, environ: Mapping[str, str], url: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise HttpCallError(url, f"environment variable {name} is not set")
        return environ[name]

    return _SECRET.sub(substitute, value)


def _render_json(value: Any, context: Mapping[str, Any]) -> Any:
    # A string that is exactly "{{ expr }}" keeps its type, so {"people": "{{ people }}"} sends 4, not "4".
    if isinstance(value, str):
        return render_value(value, context)
    if isinstance(value, dict):
        return {k: _render_json(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_json(v, context) for v in value]
    return value


def decode_json(body: bytes) -> Any:
    """The body as JSON, or None when it is not JSON."""
    try:
        return _DECODER.decode(body)
    except msgspec.DecodeError:
        return None


def json_path(document: Any, path: str) -> Any:
    """The value at a simple path ("data.items[0].name", "$.total", "items.0"), or None."""
    path = path.strip()
    if path in ("", "$"):
        return document
    path = path.removeprefix("$")
    current = document
    position = 0
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            return None
        position = match.end()
        key, index, quoted = match.groups()
        if index is not None or (key is not None and key.lstrip("-").isdigit() and isinstance(current, list)):
            if not isinstance(current, list):
                return None
            i = int(index if index is not None else key)
            if not -len(current) <= i < len(current):
                return None
            current = current[i]
        else:
            name = quoted if quoted is not None else key
            if not isinstance(current, dict) or name not in current:
                return None
            current = current[name]
    return current
