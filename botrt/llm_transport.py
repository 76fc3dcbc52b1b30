"""The aiohttp side of the agent ports: chat-completions transport and the HTTP tools' caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, Final, final
from urllib.parse import urlsplit

import aiohttp
import msgspec

from engine.agents.errors import (
    HttpCallError,
    LLMError,
    LLMProtocolError,
    LLMTimeout,
    LLMUnavailable,
    error_for_status,
    parse_retry_after,
)
from engine.agents.ports import HttpResponse
from engine.agents.sse import SSEDecoder

_ENCODER: Final = msgspec.json.Encoder()
_DECODER: Final = msgspec.json.Decoder()
# Error bodies and tool answers are read up to here: enough to explain, never unbounded.
MAX_ERROR_BYTES: Final = 4096
MAX_TOOL_RESPONSE_BYTES: Final = 1024 * 1024


def _error_detail(raw: bytes) -> str:
    """OpenAI-style ``{"error": {"message": ...}}`` when present, else the text."""
    try:
        body = _DECODER.decode(raw)
    except msgspec.DecodeError:
        return raw.decode("utf-8", errors="replace")
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", ""))
    return raw.decode("utf-8", errors="replace")


async def _read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """At most ``limit`` bytes of the body (StreamReader.read(n) may stop short of n)."""
    buffer = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        buffer += chunk
        if len(buffer) >= limit:
            break
    return bytes(buffer[:limit])


def _safe_url(url: str) -> str:
    # Queries may carry API keys; errors and logs get the URL without them.
    return urlsplit(url)._replace(query="", fragment="").geturl()


@final
class AiohttpTransport:
    """Implements LLMTransport and HttpCaller over one aiohttp ClientSession."""

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owned = session is None

    async def __aenter__(self) -> AiohttpTransport:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _http(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop (aiohttp requires that).
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        """Closes the session if this transport made it."""
        if self._owned and self._session is not None:
            await self._session.close()
            self._session = None

    async def _raise_for_status(self, response: aiohttp.ClientResponse) -> None:
        if response.status < 400:
            return
        raw = await _read_limited(response, MAX_ERROR_BYTES)
        raise error_for_status(
            response.status, _error_detail(raw), parse_retry_after(response.headers.get("Retry-After"))
        )

    async def post_json(
        self, url: str, headers: Mapping[str, str], body: Mapping[str, Any], *, timeout_s: float
    ) -> dict[str, Any]:
        """POSTs JSON, returns the JSON object answered; raises the typed LLM errors."""
        try:
            async with self._http().post(
                url,
                data=_ENCODER.encode(body),
                headers={**headers, "Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as response:
                await self._raise_for_status(response)
                raw = await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise LLMTimeout(timeout_s) from exc
        except aiohttp.ClientError as exc:
            raise LLMUnavailable(None, f"{_safe_url(url)}: {exc!r}") from exc
        try:
            answer = _DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            raise LLMProtocolError(f"answer is not JSON: {raw[:200]!r}") from exc
        if not isinstance(answer, dict):
            raise LLMProtocolError("answer is not a JSON object")
        return answer

    async def stream_sse(
        self, url: str, headers: Mapping[str, str], body: Mapping[str, Any], *, timeout_s: float
    ) -> AsyncIterator[dict[str, Any]]:
        """POSTs JSON and yields the SSE events' JSON objects until ``[DONE]``."""
        # No total: a long answer may stream for minutes; a stalled one trips sock_read.
        client_timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout_s, sock_read=timeout_s)
        decoder = SSEDecoder()
        try:
            async with self._http().post(
                url,
                data=_ENCODER.encode(body),
                headers={**headers, "Content-Type": "application/json"},
                timeout=client_timeout,
            ) as response:
                await self._raise_for_status(response)
                content_type = response.headers.get("Content-Type", "")
                if not content_type.startswith("text/event-stream"):
                    raise LLMProtocolError(
                        f"expected text/event-stream, got {content_type!r}; does this server stream?"
                    )
                async for chunk in response.content.iter_any():
                    for event in decoder.feed(chunk):
                        yield event
                    if decoder.done:
                        return
                for event in decoder.close():
                    yield event
        except LLMError:
            raise
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise LLMTimeout(timeout_s) from exc
        except aiohttp.ClientError as exc:
            raise LLMUnavailable(None, f"{_safe_url(url)}: {exc!r}") from exc

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None, timeout_s: float
    ) -> HttpResponse:
        """Sends an HTTP tool's request; any status is an answer."""
        try:
            async with self._http().request(
                method, url, data=body, headers=dict(headers), timeout=aiohttp.ClientTimeout(total=timeout_s)
            ) as response:
                raw = await _read_limited(response, MAX_TOOL_RESPONSE_BYTES)
                return HttpResponse(
                    status=response.status,
                    headers={key: value for key, value in response.headers.items()},
                    body=raw,
                )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise HttpCallError(_safe_url(url), f"no answer within {timeout_s:g}s", timed_out=True) from exc
        except aiohttp.ClientError as exc:
            raise HttpCallError(_safe_url(url), repr(exc)) from exc
