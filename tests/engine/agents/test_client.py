"""The chat-completions client against the fake server over real HTTP."""

from __future__ import annotations

import asyncio
import time

import pytest

from botrt.llm_transport import AiohttpTransport
from engine.agents import (
    ChatMessage,
    ChatRequest,
    FunctionSpec,
    LLMOverrides,
    LLMRateLimited,
    LLMRejected,
    LLMTimeout,
    LLMUnavailable,
    StreamAssembler,
    resolve_llm_config,
)
from runtime.config import Settings
from runtime.errors import ConfigError
from tests.engine.agents.support import make_client
from tests.fakes.openai import Call, Fail, FakeOpenAI, Hang, Text, ToolCalls

WEATHER = FunctionSpec(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def ask(text: str = "Hi", *, tools: tuple[FunctionSpec, ...] = ()) -> ChatRequest:
    return ChatRequest(model="fake-gpt", messages=(ChatMessage(role="user", content=text),), tools=tools,
                       tool_choice="auto" if tools else None)


async def test_streamed_text_arrives_as_deltas_with_usage(fake: FakeOpenAI, transport: AiohttpTransport) -> None:
    fake.script(Text("Hello there, friend!", usage=(11, 4), chunk_chars=5))
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    completion = await make_client(transport, fake.base_url).complete(ask(), on_delta=on_delta)
    assert deltas == ["Hello", " ther", "e, fr", "iend!"]
    assert completion.message == ChatMessage(role="assistant", content="Hello there, friend!")
    assert completion.finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 4)
    assert not completion.usage.estimated
    (body,) = fake.chat_requests
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    assert fake.requests[0].headers["Authorization"] == "Bearer sk-test"


async def test_tool_call_deltas_are_assembled_by_index(fake: FakeOpenAI, transport: AiohttpTransport) -> None:
    fake.script(ToolCalls(
        Call("get_weather", {"city": "Paris", "units": "c"}, id="call_a"),
        Call("get_weather", {"city": "Oslo"}, id="call_b"),
        fragment_chars=3,
        usage=(30, 12),
    ))
    completion = await make_client(transport, fake.base_url).complete(ask(tools=(WEATHER,)))
    calls = completion.message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("call_a", "get_weather", '{"city":"Paris","units":"c"}'),
        ("call_b", "get_weather", '{"city":"Oslo"}'),
    ]
    assert completion.finish_reason == "tool_calls"
    assert completion.usage.total_tokens == 42
    body = fake.chat_requests[0]
    assert body["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city", "parameters": WEATHER.parameters}}]
    assert body["tool_choice"] == "auto"


async def test_keepalive_comments_and_crlf_framing_are_tolerated(transport: AiohttpTransport) -> None:
    async with FakeOpenAI(keepalive_comments=True, crlf=True) as fake:
        fake.script(Text("still fine"))
        completion = await make_client(transport, fake.base_url, api_key=None).complete(ask())
    assert completion.message.content == "still fine"
    assert "Authorization" not in fake.requests[0].headers


async def test_non_streaming_mode(fake: FakeOpenAI, transport: AiohttpTransport) -> None:
    fake.script(ToolCalls(Call("get_weather", {"city": "Rome"}, id="call_r"), usage=(9, 3)))
    completion = await make_client(transport, fake.base_url, stream=False).complete(ask(tools=(WEATHER,)))
    assert completion.message.tool_calls is not None
    assert completion.message.tool_calls[0].function.arguments == '{"city":"Rome"}'
    assert completion.usage.total_tokens == 12
    assert fake.chat_requests[0]["stream"] is False
    assert "stream_options" not in fake.chat_requests[0]


async def test_missing_usage_is_estimated(transport: AiohttpTransport) -> None:
    # Some servers ignore stream_options; limits and metering must still count something.
    async with FakeOpenAI(stream_usage=False) as fake:
        fake.script(Text("z" * 40))
        completion = await make_client(transport, fake.base_url, api_key=None).complete(ask("y" * 80))
    usage = completion.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated) == (20, 10, True)


async def test_server_error_is_retryable_and_retried(fake: FakeOpenAI, transport: AiohttpTransport) -> None:
    fake.script(Fail(500), Fail(503), Text("third time lucky"))
    with pytest.raises(LLMUnavailable) as failure:
        await make_client(transport, fake.base_url).complete(ask())
    assert failure.value.status == 500 and failure.value.retryable
    completion = await make_client(transport, fake.base_url, retries=2).complete(ask())
    assert completion.message.content == "third time lucky"
    assert len(fake.chat_requests) == 3


async def test_rate_limit_carries_retry_after(fake: FakeOpenAI, transport: AiohttpTransport) -> None:
    fake.script(Fail(429, "slow down", retry_after=0.05), Fail(429, "slow down", retry_after=2))
    started = time.monotonic()
    with pytest.raises(LLMRateLimited) as failure:
        await make_client(transport, fake.base_url, retries=1).complete(ask())
    assert failure.value.retry_after == 2
    assert "slow down" in failure.value.detail
    assert time.monotonic() - started < 1.5  # waited the first Retry-After (0.05 s), not a default backoff


async def test_client_errors_are_permanent_and_not_retried(fake: FakeOpenAI, transport: AiohttpTransport) -> None:
    fake.script(Fail(400, "bad messages"))
    with pytest.raises(LLMRejected) as failure:
        await make_client(transport, fake.base_url, retries=3).complete(ask())
    assert failure.value.status == 400 and not failure.value.retryable
    assert len(fake.chat_requests) == 1
    fake.script(Text("unused"))
    with pytest.raises(LLMRejected) as wrong_key:
        await make_client(transport, fake.base_url, api_key="sk-wrong").complete(ask())
    assert wrong_key.value.status == 401


async def test_a_hanging_server_times_out(fake: FakeOpenAI, transport: AiohttpTransport) -> None:
    fake.script(Hang(), Text("a b c d e f", chunk_chars=1, stall_after=3))
    client = make_client(transport, fake.base_url, timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(LLMTimeout):
        await client.complete(ask())
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    with pytest.raises(LLMTimeout):
        await client.complete(ask(), on_delta=on_delta)
    assert deltas == ["a", " "]  # a stall mid-answer is caught too, after what did arrive
    assert time.monotonic() - started < 3


async def test_no_retry_once_tokens_were_shown(fake: FakeOpenAI, transport: AiohttpTransport) -> None:
    fake.script(Text("partial answer", chunk_chars=2, stall_after=3), Text("never asked for"))
    shown: list[str] = []

    async def on_delta(text: str) -> None:
        shown.append(text)

    with pytest.raises(LLMTimeout):
        await make_client(transport, fake.base_url, timeout_s=0.3, retries=2).complete(ask(), on_delta=on_delta)
    assert len(fake.chat_requests) == 1
    assert fake.pending == 1


async def test_connection_refused_is_unavailable(transport: AiohttpTransport) -> None:
    async with FakeOpenAI() as fake:
        base_url = fake.base_url
    with pytest.raises(LLMUnavailable) as failure:
        await make_client(transport, base_url).complete(ask())
    assert failure.value.status is None


def test_settings_and_overrides_resolve() -> None:
    settings = Settings(llm_base_url="https://llm.example/v1/", llm_api_key="sk-env", llm_model="m-env")
    config = resolve_llm_config(settings)
    assert (config.base_url, config.api_key, config.model) == ("https://llm.example/v1", "sk-env", "m-env")
    agent = resolve_llm_config(settings, LLMOverrides(model="m-agent", base_url="http://ollama:11434/v1", api_key=""))
    assert (agent.base_url, agent.api_key, agent.model) == ("http://ollama:11434/v1", "", "m-agent")
    with pytest.raises(ConfigError) as missing:
        resolve_llm_config(Settings(llm_model="m"))
    assert missing.value.variable == "BOTRT_LLM_BASE_URL"
    with pytest.raises(ConfigError) as no_model:
        resolve_llm_config(Settings(llm_base_url="http://x/v1"))
    assert no_model.value.variable == "BOTRT_LLM_MODEL"


def test_tool_call_deltas_without_index_are_inferred() -> None:
    assembler = StreamAssembler()
    for delta in (
        {"tool_calls": [{"id": "c1", "function": {"name": "a", "arguments": '{"x"'}}]},
        {"tool_calls": [{"function": {"arguments": ": 1}"}}]},
        {"tool_calls": [{"id": "c2", "function": {"name": "b", "arguments": "{}"}}]},
    ):
        assembler.feed({"choices": [{"index": 0, "delta": delta}]})
    calls = assembler.message().tool_calls
    assert calls is not None
    assembled = [(c.id, c.function.name, c.function.arguments) for c in calls]
    assert assembled == [("c1", "a", '{"x": 1}'), ("c2", "b", "{}")]


def test_an_error_object_in_the_stream_is_an_error() -> None:
    with pytest.raises(LLMUnavailable, match="overloaded"):
        StreamAssembler().feed({"error": {"message": "overloaded", "type": "server_error"}})


async def test_cancellation_mid_stream_releases_the_connection(fake: FakeOpenAI, transport: AiohttpTransport) -> None:
    fake.script(Hang())
    task = asyncio.create_task(make_client(transport, fake.base_url).complete(ask()))
    async with asyncio.timeout(5):
        await fake.received(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
