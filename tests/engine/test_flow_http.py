"""The http node: templated requests, JSON mapped into slots, timeouts and the error edge."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from botrt.llm_transport import AiohttpTransport
from engine.errors import HttpCallError
from engine.flow import FlowRunner, UserInput
from engine.flowspec import FlowSpec, HttpNode, parse_flow
from engine.http_node import build_request, json_path


class Answer(msgspec.Struct, frozen=True):
    status: int
    body: bytes


class FakeCaller:
    """Records requests and answers from a script (an Answer, or an exception to raise)."""

    def __init__(self, *script: Answer | Exception) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None, timeout_s: float
    ) -> Answer:
        self.requests.append(
            {"method": method, "url": url, "headers": dict(headers), "body": body, "timeout": timeout_s}
        )
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def order_flow(**http: Any) -> FlowSpec:
    return parse_flow(
        {
            "start": "ask",
            "nodes": [
                {"id": "ask", "kind": "ask", "slot": "order", "prompt": "Order?", "next": "call"},
                {
                    "id": "call",
                    "kind": "http",
                    "method": "POST",
                    "url": "https://api.example/orders/{{ order|urlencode }}",
                    "query": {"lang": "{{ lang }}"},
                    "headers": {"Authorization": "Bearer ${ORDERS_TOKEN}"},
                    "json": {"id": "{{ order }}", "count": "{{ qty }}", "tags": ["{{ lang }}", 1]},
                    "save": {"state": "data.state", "first": "data.items[0].name", "missing": "data.nope"},
                    "status_slot": "http_status",
                    "timeout": 2.0,
                    "next": "ok",
                    "on_error": "failed",
                    **http,
                },
                {"id": "ok", "kind": "say", "text": "{{ order }} is {{ state }} ({{ first }})"},
                {"id": "failed", "kind": "say", "text": "lookup failed ({{ http_status }})"},
            ],
        }
    )


async def run_order(caller: Any, flow: FlowSpec | None = None) -> Any:
    runner = FlowRunner(flow or order_flow(), http=caller)
    start = await runner.start(slots={"lang": "en", "qty": 2})
    return await runner.handle(start.state, UserInput(text="A 1"))


async def test_request_is_rendered_and_the_response_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_TOKEN", "s3cret")
    body = b'{"data": {"state": "shipped", "items": [{"name": "pizza"}]}}'
    caller = FakeCaller(Answer(200, body))
    out = await run_order(caller)
    assert [s.text for s in out.said] == ["A 1 is shipped (pizza)"]
    assert out.state["slots"]["http_status"] == 200 and out.state["slots"]["missing"] is None
    sent = caller.requests[0]
    assert sent["method"] == "POST" and sent["url"] == "https://api.example/orders/A%201?lang=en"
    assert sent["headers"] == {"Authorization": "Bearer s3cret", "Content-Type": "application/json"}
    assert msgspec.json.decode(sent["body"]) == {"id": "A 1", "count": 2, "tags": ["en", 1]}
    assert sent["timeout"] == 2.0
    # The secret is read at call time and never lands in the state.
    assert "s3cret" not in msgspec.json.encode(out.state).decode()


@pytest.mark.parametrize(
    "script",
    [Answer(503, b"busy"), HttpCallError("https://api.example", "connection refused"), TimeoutError()],
)
async def test_errors_take_the_error_edge(script: Answer | Exception, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_TOKEN", "t")
    out = await run_order(FakeCaller(script))
    status = script.status if isinstance(script, Answer) else 0
    assert [s.text for s in out.said] == [f"lookup failed ({status})"]


async def test_unset_secret_and_missing_caller_take_the_error_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDERS_TOKEN", raising=False)
    caller = FakeCaller()
    assert [s.text for s in (await run_order(caller)).said] == ["lookup failed (0)"]
    assert caller.requests == []
    assert [s.text for s in (await run_order(None)).said] == ["lookup failed (0)"]


async def test_a_slow_caller_is_cut_off_by_the_node_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_TOKEN", "t")

    class Hanging:
        async def request(self, method: str, url: str, **_: Any) -> Answer:
            await asyncio.sleep(30)
            raise AssertionError("not reached")

    flow = order_flow(timeout=0.05)
    out = await asyncio.wait_for(run_order(Hanging(), flow), timeout=5)
    assert [s.text for s in out.said] == ["lookup failed (0)"]


async def test_without_an_error_edge_errors_go_on_to_next(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_TOKEN", "t")
    flow = parse_flow(
        {
            "start": "call",
            "nodes": [
                {"id": "call", "kind": "http", "url": "https://x.example", "status_slot": "s", "next": "b"},
                {"id": "b", "kind": "say", "text": "status {{ s }}"},
            ],
        }
    )
    out = await FlowRunner(flow, http=FakeCaller(Answer(404, b""))).start()
    assert [s.text for s in out.said] == ["status 404"]


def test_a_rendered_url_must_stay_http() -> None:
    node = HttpNode(id="n", url="{{ target }}")
    with pytest.raises(HttpCallError):
        build_request(node, {"target": "file:///etc/passwd"})


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", {"a": [{"b": 1}, {"b": 2}], "c d": 3}),
        ("a[1].b", 2),
        ("$.a[-1].b", 2),
        ("a.0.b", 1),
        ('["c d"]', 3),
        ("a[5].b", None),
        ("x.y", None),
        ("a.b", None),
    ],
)
def test_json_path(path: str, expected: Any) -> None:
    assert json_path({"a": [{"b": 1}, {"b": 2}], "c d": 3}, path) == expected


async def test_the_agents_aiohttp_transport_serves_http_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """botrt.llm_transport.AiohttpTransport already implements this port; the lead injects it."""
    monkeypatch.setenv("ORDERS_TOKEN", "real")
    seen: list[tuple[str, str, Any]] = []

    async def order(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("Authorization", ""), await request.json()))
        return web.json_response({"data": {"state": "cooking", "items": [{"name": "soup"}]}})

    app = web.Application()
    app.router.add_post("/orders/{id}", order)
    async with TestServer(app) as server, AiohttpTransport() as transport:
        url = f"http://{server.host}:{server.port}/orders/{{{{ order|urlencode }}}}"
        out = await run_order(transport, order_flow(url=url))
    assert [s.text for s in out.said] == ["A 1 is cooking (soup)"]
    assert seen == [("/orders/A 1", "Bearer real", {"id": "A 1", "count": 2, "tags": ["en", 1]})]
