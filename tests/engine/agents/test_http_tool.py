"""HTTP tools defined in data, called by the model, against a fake upstream on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from botrt.llm_transport import AiohttpTransport
from engine.agents import (
    Agent,
    AgentSpec,
    AgentTurn,
    HttpToolConfig,
    ToolDefinition,
    ToolDefinitionError,
    build_tool,
)
from tests.engine.agents.support import MemoryMeter, MemoryRecorder, make_client
from tests.fakes.openai import Call, FakeOpenAI, Text, ToolCalls

TURN = AgentTurn(org_id="org-1", bot_id="bot-1", conversation_id="conv-1", text="Weather in São Paulo?",
                 slots={"units": "metric"})
PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "note": {"type": "string"}},
    "required": ["city"],
}


class Upstream:
    """A weather API that records what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append({
            "method": request.method, "path": request.path, "query": dict(request.query),
            "auth": request.headers.get("X-Api-Key"), "body": msgspec.json.decode(body) if body else None,
        })
        if self.status != 200:
            return web.json_response({"message": "city not found"}, status=self.status)
        return web.json_response({"name": request.match_info["city"], "main": {"temp": 24.5, "humidity": 70},
                                  "list": [{"summary": "sunny"}, {"summary": "rain"}], "noise": "x" * 100})


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    api = Upstream()
    app = web.Application()
    app.router.add_route("*", "/weather/{city}", api.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield api, str(server.make_url("")).rstrip("/")
    await server.close()


def definition(base: str, **config: Any) -> ToolDefinition:
    http = {
        "method": "POST",
        "url": base + "/weather/{{ city }}",
        "query": {"units": "{{ slots.units }}"},
        "headers": {"X-Api-Key": "{{ secrets.weather_key }}"},
        "body": {"days": "{{ days }}", "note": "for {{ city }}", "optional": "{{ note }}"},
        "response": {"city": "name", "temp_c": "main.temp", "tomorrow": "list[1].summary"},
        **config,
    }
    return ToolDefinition(name="weather", description="Current weather", kind="http", parameters=PARAMETERS,
                          http_config=msgspec.convert(http, HttpToolConfig), timeout_ms=3000)


async def test_the_model_calls_an_http_tool(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter,
    upstream: tuple[Upstream, str],
) -> None:
    api, base = upstream
    tool = build_tool(definition(base), http=transport, secrets={"weather_key": "k-123"})
    fake.script(ToolCalls(Call("weather", {"city": "São Paulo", "days": 2})), Text("24.5°C and sunny."))
    helper = Agent(AgentSpec(name="w"), client=make_client(transport, fake.base_url), recorder=recorder,
                   meter=meter, tools=(tool,))
    response = await helper.run(TURN)

    assert response.text == "24.5°C and sunny."
    (sent,) = api.received
    assert sent == {"method": "POST", "path": "/weather/São Paulo", "query": {"units": "metric"}, "auth": "k-123",
                    # A whole-value placeholder keeps its JSON type; a missing optional one is left out.
                    "body": {"days": 2, "note": "for São Paulo"}}
    tool_message = fake.chat_requests[1]["messages"][-1]
    assert msgspec.json.decode(tool_message["content"]) == {
        "status": 200, "body": {"city": "São Paulo", "temp_c": 24.5, "tomorrow": "rain"}}
    # The secret never reaches the records.
    assert "k-123" not in msgspec.json.encode(recorder.steps).decode()


async def test_upstream_errors_and_unreachable_hosts_go_back_to_the_model(
    transport: AiohttpTransport, upstream: tuple[Upstream, str]
) -> None:
    from engine.agents import ToolContext

    api, base = upstream
    ctx = ToolContext(org_id="o", bot_id="b", conversation_id="c", run_id="r")
    api.status = 404
    tool = build_tool(definition(base, response={}), http=transport, secrets={"weather_key": "k"})
    result = await tool({"city": "Atlantis"}, ctx)
    assert result.is_error
    assert result.content == {"status": 404, "error": {"message": "city not found"}}

    gone = FakeOpenAI()
    async with gone:
        dead_base = f"http://127.0.0.1:{gone.port}"
    dead = build_tool(definition(dead_base), http=transport, secrets={"weather_key": "k"})
    result = await dead({"city": "Paris"}, ctx)
    assert result.is_error and result.content["error"] == "unreachable"


def test_bad_definitions_are_refused() -> None:
    with pytest.raises(ToolDefinitionError, match="literal http"):
        build_tool(definition("{{ city }}"), http=_NoHttp(), secrets={"weather_key": "k"})
    with pytest.raises(ToolDefinitionError, match="no such secret"):
        build_tool(definition("https://api.example"), http=_NoHttp())
    with pytest.raises(ToolDefinitionError, match="not a parameter"):
        build_tool(definition("https://api.example", body={"x": "{{ country }}"}), http=_NoHttp(),
                   secrets={"weather_key": "k"})
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"method": "GET", "url": "https://x", "verb": "?"}, HttpToolConfig)


class _NoHttp:
    async def request(self, method: str, url: str, *, headers: Any, body: bytes | None, timeout_s: float) -> Any:
        raise AssertionError("not called")
