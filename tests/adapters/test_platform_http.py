"""The lean keep-alive client of the send path (adapters.platform_http), against real servers on
loopback: aiohttp's web server for the ordinary cases, a raw socket server for the edge cases
(chunked answers, Connection: close, a server that drops idle connections or never answers)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.errors import ProviderUnavailable
from adapters.platform_http import MAX_BODY, PlatformHttp, TransportError
from adapters.telegram import TelegramAdapter, TelegramConfig
from runtime.events import OutboundText

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def client() -> AsyncIterator[PlatformHttp]:
    http = PlatformHttp()
    yield http
    await http.close()


async def test_posts_reuse_one_keep_alive_connection(client: PlatformHttp) -> None:
    peers: list[object] = []

    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        body = await request.read()
        return web.json_response({"got": body.decode(), "type": request.content_type, "length": request.content_length})

    app = web.Application()
    app.router.add_post("/bot1:x/sendMessage", echo)
    async with TestServer(app, host="127.0.0.1") as server:
        url = yarl.URL(str(server.make_url("/bot1:x/sendMessage")))
        answers = [await client.post(url, f'{{"n":{i}}}'.encode(), headers=JSON) for i in range(3)]
    assert [a.status for a in answers] == [200, 200, 200]
    assert answers[2].body == b'{"got": "{\\"n\\":2}", "type": "application/json", "length": 7}'
    assert answers[0].headers["content-type"].startswith("application/json")
    assert len(set(peers)) == 1  # one connection, three requests


async def _raw_server(answer: Callable[[bytes], bytes | None]) -> tuple[asyncio.Server, yarl.URL, list[int]]:
    """A server that reads one request at a time and writes answer(request) (None: write nothing)."""
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = int(next(line.split(b":")[1] for line in lines if line.lower().startswith(b"content-length")))
                body = await reader.readexactly(length)
                reply = answer(head + body)
                if reply is None:
                    await asyncio.sleep(3600)
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, yarl.URL(f"http://127.0.0.1:{port}/api/call"), connections


async def test_chunked_answers_and_connection_close(client: PlatformHttp) -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"ok\r\n6\r\n\":true\r\n1\r\n}\r\n0\r\n\r\n"
    closing = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    replies = iter([chunked, closing, chunked])
    server, url, connections = await _raw_server(lambda _request: next(replies))
    async with server:
        first = await client.post(url, b"{}", headers=JSON)
        second = await client.post(url, b"{}", headers=JSON)
        third = await client.post(url, b"{}", headers=JSON)
    assert (first.status, first.body) == (200, b'{"ok":true}')
    assert (second.status, second.headers["retry-after"]) == (429, "7")
    assert third.status == 200
    assert len(connections) == 2  # the closed connection was not reused


async def test_a_request_names_its_host_path_and_length(client: PlatformHttp) -> None:
    seen: list[bytes] = []
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    server, url, _ = await _raw_server(lambda request: seen.append(request) or ok)
    async with server:
        await client.post(url.with_query(a="1 2"), b"hello", headers={"Authorization": "Bearer t"})
    request = seen[0].decode()
    assert request.startswith("POST /api/call?a=1+2 HTTP/1.1\r\n")  # as yarl encodes it
    assert f"Host: 127.0.0.1:{url.port}\r\n" in request
    assert "Authorization: Bearer t\r\n" in request and "Content-Length: 5\r\n" in request
    assert request.endswith("\r\n\r\nhello")


async def test_a_connection_the_server_dropped_while_idle_is_replaced(client: PlatformHttp) -> None:
    connections: list[int] = []

    async def answer_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Keep-alive by the headers, yet closed right after: an idle timeout that struck at once.
        connections.append(1)
        await reader.readuntil(b"\r\n\r\n{}")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_then_hang_up, "127.0.0.1", 0)
    url = yarl.URL(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/x")
    async with server:
        for _ in range(3):
            assert (await client.post(url, b"{}", headers=JSON)).status == 200
            await asyncio.sleep(0.05)  # the close reaches the client while the connection is idle
    assert len(connections) == 3


async def test_a_timeout_abandons_the_connection(client: PlatformHttp) -> None:
    answers: list[bytes | None] = [None, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]
    server, url, connections = await _raw_server(lambda _request: answers.pop(0))
    async with server:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.post(url, b"{}", headers=JSON)
        assert (await client.post(url, b"{}", headers=JSON)).status == 200
    assert len(connections) == 2  # the late answer could never be read as the next one's


async def test_refused_connections_and_oversized_answers_are_transport_errors(client: PlatformHttp) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransportError, match="cannot connect") as caught:
        await client.post(yarl.URL(f"http://127.0.0.1:{port}/bot9:Secret/x"), b"{}", headers=JSON)
    assert "Secret" not in str(caught.value)
    huge = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1) + b"x" * (MAX_BODY + 1)
    server, url, _ = await _raw_server(lambda _request: huge)
    async with server:
        with pytest.raises(TransportError, match="larger than"):
            await client.post(url, b"{}", headers=JSON)


async def test_telegram_on_the_lean_client_hides_its_token_in_failures(client: PlatformHttp) -> None:
    token = "123:LeanSecretToken"
    server, url, _ = await _raw_server(lambda _request: None)  # accepts, never answers
    message = OutboundText(
        event_id="e1", org_id="o", conversation_id="c", channel_id="ch", channel_kind="telegram", ts=0.0, text="Hi"
    )
    async with server:
        config = TelegramConfig(token=token, slug="demo", api_base=str(url.origin()))
        adapter = TelegramAdapter(config, http=None, timeout=0.2, api=client)  # type: ignore[arg-type]
        with pytest.raises(ProviderUnavailable, match="no answer within 0.2 s") as slow:
            await adapter.send("42", message)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    adapter = TelegramAdapter(
        TelegramConfig(token=token, slug="demo", api_base=f"http://127.0.0.1:{port}"), http=None, api=client  # type: ignore[arg-type]
    )
    with pytest.raises(ProviderUnavailable) as refused:
        await adapter.send("42", message)
    for failure in (slow.value, refused.value):
        assert "LeanSecretToken" not in str(failure) and failure.__cause__ is None


async def test_an_answer_delimited_by_the_close_of_the_connection(client: PlatformHttp) -> None:
    async def old_style(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n{}")
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"ok":true}')
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(old_style, "127.0.0.1", 0)
    url = yarl.URL(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/x")
    async with server:
        answer = await client.post(url, b"{}", headers=JSON)
    assert (answer.status, answer.body) == (200, b'{"ok":true}')
