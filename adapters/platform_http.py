"""A keep-alive HTTP/1.1 client for the platform API calls of the send path (post_call).

Every reply a bot sends is one API call (sendMessage, Graph /messages, chat.postMessage,
Messages.json). aiohttp's client spends ~60-110 us of CPU on each (request and response
objects, header multidicts, cookie and trace hooks, timeouts); on the webhook benchmark that
was a fifth of the server's CPU, the largest single cost left. This client does what those
calls need and nothing else: it writes one request (method, path, Host, the caller's headers,
Content-Length, body) on a pooled keep-alive connection and parses the answer with httptools
(llhttp, the parser Node.js uses; chunked and keep-alive rules are its). No redirects, cookies,
proxies or compression: platform APIs answer the call itself, and Accept-Encoding is never sent.

Failures raise TransportError (connect, reset, a malformed answer); callers bound the wait
with asyncio.timeout (TimeoutError). The adapters map both to ProviderUnavailable. Nothing
here puts a URL in an error message, since Bot API URLs carry the token.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Mapping
from typing import Final, final

import aiohttp
import httptools
import msgspec
import yarl

from adapters.download import read_capped
from runtime.logging import get_logger

log = get_logger(__name__)

# Idle connections kept per origin; more may be open while busy, up to MAX_PER_ORIGIN.
MAX_IDLE_PER_ORIGIN: Final = 64
MAX_PER_ORIGIN: Final = 256
CONNECT_TIMEOUT_S: Final = 5.0
MAX_BODY: Final = 4 * 1024 * 1024  # an API answer; media downloads go elsewhere (adapters.download)


class TransportError(Exception):
    """The call failed below HTTP: no connection, a reset, an answer that is not HTTP."""


class HttpAnswer(msgspec.Struct, frozen=True):
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


@final
class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, answered through a future."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[HttpAnswer] | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._status_seen = False
        self.reusable = False

    # ---- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(TransportError(f"malformed HTTP answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self.transport = None
        if exc is None and self._delimited_by_close():
            # An answer with neither Content-Length nor chunked encoding ends when the server
            # closes (RFC 9112 section 6.3); httptools cannot be told about the end of input.
            self.on_message_complete()
            return
        self._fail(TransportError(f"connection closed before the answer ({type(exc).__name__ if exc else 'EOF'})"))

    def _delimited_by_close(self) -> bool:
        return (
            self._answer is not None
            and self._status_seen
            and "content-length" not in self._headers
            and "transfer-encoding" not in self._headers
        )

    # ---- httptools callbacks -----------------------------------------------------------------

    def on_headers_complete(self) -> None:
        self._status_seen = True

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > MAX_BODY:
            self._fail(TransportError(f"answer larger than {MAX_BODY} bytes"))
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        answer, self._answer = self._answer, None
        self.reusable = self.transport is not None and self._parser.should_keep_alive()
        if answer is not None and not answer.done():
            answer.set_result(HttpAnswer(self._parser.get_status_code(), self._headers, b"".join(self._body)))

    # ---- use ---------------------------------------------------------------------------------

    def send(self, request: bytes) -> asyncio.Future[HttpAnswer]:
        assert self.transport is not None, "send on a closed connection"
        self._answer = asyncio.get_running_loop().create_future()
        self._headers, self._body, self._size, self._status_seen = {}, [], 0, False
        self.reusable = False
        self.transport.write(request)
        return self._answer

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_exception(exc)
        self.close()


@final
class _Origin:
    """The pool of one scheme://host:port."""

    def __init__(self, scheme: str, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        self.host, self.port = host, port
        self.host_header = host if port == (443 if scheme == "https" else 80) else f"{host}:{port}"
        self.ssl = ssl_context if scheme == "https" else None
        self.idle: deque[_Connection] = deque()
        self.slots = asyncio.Semaphore(MAX_PER_ORIGIN)

    def take_idle(self) -> _Connection | None:
        """The most recently used idle connection the server has not closed, if any."""
        while self.idle:
            connection = self.idle.pop()
            if connection.transport is not None and not connection.transport.is_closing():
                return connection
        return None

    async def connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                _, connection = await loop.create_connection(
                    _Connection, self.host, self.port, ssl=self.ssl, server_hostname=self.host if self.ssl else None
                )
        except TimeoutError:
            raise TransportError(f"no connection within {CONNECT_TIMEOUT_S:g} s") from None
        except OSError as exc:
            raise TransportError(f"cannot connect: {type(exc).__name__}: {exc.strerror or exc}") from None
        return connection


@final
class PlatformHttp:
    """Pooled keep-alive HTTP/1.1 for API calls; close() at shutdown."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context or ssl.create_default_context()
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._closed = False

    async def post(self, url: yarl.URL, body: bytes, *, headers: Mapping[str, str]) -> HttpAnswer:
        """POSTs body to url and returns the whole answer; raises TransportError. Callers bound
        the wait with asyncio.timeout: a cancelled call closes its connection, never reuses it."""
        return await self.request("POST", url, body, headers=headers)

    async def request(self, method: str, url: yarl.URL, body: bytes, *, headers: Mapping[str, str]) -> HttpAnswer:
        if self._closed:
            raise TransportError("client closed")
        origin = self._origin(url)
        head = [f"{method} {url.raw_path_qs} HTTP/1.1\r\nHost: {origin.host_header}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in headers.items()]
        head.append(f"Content-Length: {len(body)}\r\n\r\n")
        request = "".join(head).encode("latin-1") + body
        async with origin.slots:
            connection = origin.take_idle()
            try:
                if connection is None:
                    connection = await origin.connect()
                # A failure after the write is not retried here: the platform may have acted
                # on the call, and the outbox decides about trying again.
                answer = await connection.send(request)
            except BaseException:
                if connection is not None:
                    connection.close()  # an unread answer may still arrive: never reuse it
                raise
        if connection.reusable and len(origin.idle) < MAX_IDLE_PER_ORIGIN and not self._closed:
            origin.idle.append(connection)
        else:
            connection.close()
        return answer

    def _origin(self, url: yarl.URL) -> _Origin:
        scheme, host, port = url.scheme, url.raw_host, url.port
        if scheme not in ("http", "https") or not host or port is None:
            raise TransportError(f"not an http(s) URL with a host ({scheme or 'no scheme'})")
        key = (scheme, host, port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(scheme, host, port, self._ssl)
        return origin

    async def close(self) -> None:
        self._closed = True
        for origin in self._origins.values():
            while origin.idle:
                origin.idle.pop().close()
        await asyncio.sleep(0)  # let the transports finish closing


async def post_call(
    api: PlatformHttp | None,
    http: aiohttp.ClientSession,
    url: yarl.URL,
    body: bytes,
    *,
    headers: Mapping[str, str],
    within_s: float,
) -> HttpAnswer:
    """One platform API POST: on the lean client when the adapter has one (the runtime's
    adapters do), else on the aiohttp session (tests, `botrt channels register`). Raises
    TransportError for anything below HTTP, TimeoutError after within_s seconds."""
    async with asyncio.timeout(within_s):
        if api is not None:
            return await api.post(url, body, headers=headers)
        try:
            async with http.post(url, data=body, headers=headers) as response:
                answer = await read_capped(response, MAX_BODY)
                if answer is None:
                    raise TransportError(f"answer larger than {MAX_BODY} bytes")
                return HttpAnswer(response.status, {k.lower(): v for k, v in response.headers.items()}, answer)
        except aiohttp.ClientError as exc:
            # Only the type: aiohttp's messages may quote the URL, and Bot API URLs hold the token.
            raise TransportError(f"{type(exc).__name__}") from None
