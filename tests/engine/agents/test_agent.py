"""The agent loop: answers, limits, failures, recording, metering and hooks."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from botrt.llm_transport import AiohttpTransport
from engine.agents import (
    Agent,
    AgentFailure,
    AgentHooks,
    AgentLimits,
    AgentSpec,
    AgentTurn,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    FunctionCall,
    FunctionSpec,
    Tool,
    ToolCall,
    ToolContext,
    ToolResult,
    history_window,
)
from tests.engine.agents.support import MemoryMeter, MemoryRecorder, make_client
from tests.fakes.openai import Call, Fail, FakeOpenAI, Hang, Text, ToolCalls

TURN = AgentTurn(org_id="org-1", bot_id="bot-1", conversation_id="conv-1", text="What's the weather in Paris?")


class Weather:
    """A tool answering from a table (optionally slowly)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self.timeout_s = 10.0
        self.spec = FunctionSpec(name="get_weather", description="Weather for a city", parameters={
            "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
            "additionalProperties": False,
        })

    async def __call__(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        self.calls.append(arguments)
        await asyncio.sleep(self.delay)
        return ToolResult(content={"city": arguments["city"], "temp_c": 21})


def agent(fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter, *,
          tools: tuple[Tool, ...] = (), timeout_s: float = 5.0, **spec: Any) -> Agent:
    return Agent(
        AgentSpec(name="helper", agent_id="agent-1", system_prompt="You help {{ name }}.", **spec),
        client=make_client(transport, fake.base_url, timeout_s=timeout_s),
        recorder=recorder, meter=meter, tools=tools,
    )


async def test_tool_loop_answers_and_records_every_step(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(
        ToolCalls(Call("get_weather", {"city": "Paris"}, id="call_1"), usage=(50, 10)),
        Text("It is 21°C in Paris.", usage=(80, 7)),
    )
    weather = Weather()
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    turn = msgspec.structs.replace(TURN, slots={"name": "Ada"})
    response = await agent(fake, transport, recorder, meter, tools=(weather,)).run(turn, on_delta=on_delta)

    assert response.text == "It is 21°C in Paris."
    assert "".join(deltas) == response.text
    assert response.status == "succeeded" and response.error is None
    assert weather.calls == [{"city": "Paris"}]
    # The model saw the system prompt, then the tool result tied to its call id.
    first, second = fake.chat_requests
    assert first["messages"][0] == {"role": "system", "content": "You help Ada."}
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_1",
                                      "content": '{"city":"Paris","temp_c":21}'}
    assert second["messages"][-2]["tool_calls"][0]["function"] == {"name": "get_weather",
                                                                    "arguments": '{"city":"Paris"}'}
    assert [m.role for m in response.messages] == ["user", "assistant", "tool", "assistant"]

    (started,) = recorder.started
    assert (started.run_id, started.agent, started.agent_id, started.model) == (
        response.run_id, "helper", "agent-1", "fake-gpt")
    assert (started.org_id, started.bot_id, started.conversation_id, started.parent_run_id) == (
        "org-1", "bot-1", "conv-1", None)
    steps = recorder.steps_of(response.run_id)
    assert [(s.step_no, s.kind, s.status, s.tool) for s in steps] == [
        (1, "llm_call", "succeeded", None), (2, "tool_call", "succeeded", "get_weather"),
        (3, "llm_call", "succeeded", None)]
    assert [(s.prompt_tokens, s.completion_tokens) for s in steps] == [(50, 10), (0, 0), (80, 7)]
    assert steps[0].output["tool_calls"] == [{"name": "get_weather", "arguments": '{"city":"Paris"}'}]
    assert steps[1].input == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert all(s.latency_ms >= 0 for s in steps)
    finished = recorder.finished_run(response.run_id)
    assert (finished.status, finished.steps, finished.prompt_tokens, finished.completion_tokens, finished.error) == (
        "succeeded", 3, 130, 17, None)
    metered = [(u.org_id, u.bot_id, u.model, u.prompt_tokens, u.completion_tokens, u.estimated) for u in meter.records]
    assert metered == [("org-1", "bot-1", "fake-gpt", 50, 10, False), ("org-1", "bot-1", "fake-gpt", 80, 7, False)]
    assert len({u.idempotency_key for u in meter.records}) == 2
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.steps) == (130, 17, 3)


async def test_max_steps_ends_with_the_limit_reply(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(*[ToolCalls(Call("get_weather", {"city": "Paris"}), usage=(10, 2)) for _ in range(5)])
    errors: list[AgentFailure] = []

    async def on_error(failure: AgentFailure) -> None:
        errors.append(failure)

    helper = agent(fake, transport, recorder, meter, tools=(Weather(),), limits=AgentLimits(max_steps=3),
                   limit_reply="Let me get a human to help.")
    response = await helper.run(TURN, hooks=AgentHooks(error=on_error))

    assert response.text == "Let me get a human to help."
    assert response.status == "limit_reached"
    assert response.error is not None and response.error.code == "max_steps"
    assert errors == [response.error]
    assert len(fake.chat_requests) == 3
    # The history gets the user's message and the reply, never a half-done tool exchange.
    assert response.messages == (ChatMessage(role="user", content=TURN.text),
                                 ChatMessage(role="assistant", content="Let me get a human to help."))
    finished = recorder.finished_run(response.run_id)
    assert (finished.status, finished.steps, finished.prompt_tokens) == ("limit_reached", 6, 30)
    assert finished.error is not None and "3 steps" in finished.error
    assert len(meter.records) == 3


async def test_token_limit_stops_the_loop(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(*[ToolCalls(Call("get_weather", {"city": "Paris"}), usage=(1500, 100)) for _ in range(5)])
    helper = agent(fake, transport, recorder, meter, tools=(Weather(),), limits=AgentLimits(max_tokens=3000))
    response = await helper.run(TURN)
    assert response.status == "limit_reached"
    assert response.error is not None and response.error.code == "max_tokens"
    assert response.text == AgentSpec(name="x").limit_reply
    assert len(fake.chat_requests) == 2
    assert response.usage.total_tokens == 3200
    assert sum(u.prompt_tokens + u.completion_tokens for u in meter.records) == 3200


async def test_wall_time_cuts_a_slow_turn(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(ToolCalls(Call("get_weather", {"city": "Paris"})), Text("too late"))
    helper = agent(fake, transport, recorder, meter, tools=(Weather(delay=5),),
                   limits=AgentLimits(wall_time_s=0.5))
    started = time.monotonic()
    response = await helper.run(TURN)
    assert time.monotonic() - started < 2
    assert response.status == "limit_reached"
    assert response.error is not None and response.error.code == "wall_time"
    steps = recorder.steps_of(response.run_id)
    assert [(s.kind, s.status) for s in steps] == [("llm_call", "succeeded"), ("tool_call", "timed_out")]
    assert recorder.finished_run(response.run_id).status == "limit_reached"


async def test_a_failing_llm_gets_a_graceful_reply(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(Fail(500, "the GPUs are on fire"))
    response = await agent(fake, transport, recorder, meter, error_reply="Please try again shortly.").run(TURN)
    assert response.text == "Please try again shortly."
    assert response.status == "failed"
    assert response.error is not None and response.error.code == "llm_unavailable"
    assert "GPUs are on fire" in response.error.message
    (step,) = recorder.steps_of(response.run_id)
    assert (step.kind, step.status, step.output["code"]) == ("llm_call", "failed", "llm_unavailable")
    assert recorder.finished_run(response.run_id).status == "failed"
    assert meter.records == []


async def test_a_hanging_llm_gets_a_graceful_reply(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(Hang())
    started = time.monotonic()
    response = await agent(fake, transport, recorder, meter, timeout_s=0.3).run(TURN)
    assert time.monotonic() - started < 2
    assert response.text == AgentSpec(name="x").error_reply
    assert response.error is not None and response.error.code == "llm_timeout"
    (step,) = recorder.steps_of(response.run_id)
    assert step.status == "timed_out"


async def test_a_hanging_llm_under_a_short_wall_time_is_cut_by_the_wall(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(Hang())
    helper = agent(fake, transport, recorder, meter, timeout_s=30, limits=AgentLimits(wall_time_s=0.3))
    response = await helper.run(TURN)
    assert response.error is not None and response.error.code == "wall_time"
    (step,) = recorder.steps_of(response.run_id)
    assert (step.kind, step.status) == ("llm_call", "timed_out")


async def test_hooks_see_and_may_replace_requests_responses_and_tool_calls(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(
        ToolCalls(Call("get_weather", {"city": "Paris"}, id="c1"), Call("get_weather", {"city": "Pyongyang"}, id="c2")),
        Text("Paris is 21°C."),
    )
    weather = Weather()
    seen: list[str] = []

    async def before_agent(request: ChatRequest) -> ChatRequest:
        seen.append("before")
        note = ChatMessage(role="system", content="Be brief.")
        return msgspec.structs.replace(request, messages=(*request.messages, note))

    async def after_agent(completion: ChatCompletion) -> ChatCompletion:
        seen.append("after")
        if completion.message.content:
            message = msgspec.structs.replace(completion.message, content=completion.message.content.upper())
            return msgspec.structs.replace(completion, message=message)
        return completion

    async def tool_call(call: ToolCall) -> ToolCall | ToolResult:
        seen.append(f"tool:{call.id}")
        if "Pyongyang" in call.function.arguments:
            return ToolResult(content={"error": "blocked by policy"}, is_error=True)
        return msgspec.structs.replace(call, function=FunctionCall(name="get_weather", arguments='{"city": "PARIS"}'))

    hooks = AgentHooks(before_agent=before_agent, after_agent=after_agent, tool_call=tool_call)
    response = await agent(fake, transport, recorder, meter, tools=(weather,)).run(TURN, hooks=hooks)

    assert seen == ["before", "after", "tool:c1", "tool:c2", "before", "after"]
    assert response.text == "PARIS IS 21°C."
    assert weather.calls == [{"city": "PARIS"}]
    assert fake.chat_requests[0]["messages"][-1] == {"role": "system", "content": "Be brief."}
    tool_messages = [m for m in fake.chat_requests[1]["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["c1", "c2"]
    assert "blocked by policy" in tool_messages[1]["content"]
    statuses = [(s.kind, s.status) for s in recorder.steps_of(response.run_id)]
    assert statuses[1:3] == [("tool_call", "succeeded"), ("tool_call", "failed")]


async def test_a_failing_hook_still_gets_a_graceful_reply(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    async def before_agent(request: ChatRequest) -> ChatRequest:
        raise RuntimeError("plugin bug")

    response = await agent(fake, transport, recorder, meter).run(TURN, hooks=AgentHooks(before_agent=before_agent))
    assert response.status == "failed"
    assert response.error is not None and response.error.code == "internal"
    assert fake.chat_requests == []


async def test_history_is_windowed_from_a_user_message(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    call = ToolCall(id="old", function=FunctionCall(name="get_weather", arguments="{}"))
    history = (
        ChatMessage(role="user", content="one"),
        ChatMessage(role="assistant", tool_calls=(call,)),
        ChatMessage(role="tool", tool_call_id="old", content="{}"),
        ChatMessage(role="assistant", content="two"),
        ChatMessage(role="user", content="three"),
        ChatMessage(role="assistant", content="four"),
    )
    # A window of 4 would start at the tool result, whose call is cut off: it starts at "three".
    assert [m.content for m in history_window(history, 4)] == ["three", "four"]
    assert history_window(history, 0) == []
    fake.script(Text("five"))
    turn = msgspec.structs.replace(TURN, history=history)
    await agent(fake, transport, recorder, meter, history_window=4).run(turn)
    assert [m["content"] for m in fake.chat_requests[0]["messages"]] == [
        "You help .", "three", "four", TURN.text]


async def test_an_empty_answer_is_a_failure(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(Text(""))
    response = await agent(fake, transport, recorder, meter).run(TURN)
    assert response.error is not None and response.error.code == "empty_answer"
    assert response.text == AgentSpec(name="x").error_reply


async def test_cancelling_a_turn_records_the_run_as_cancelled(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(Hang())
    task = asyncio.create_task(agent(fake, transport, recorder, meter, timeout_s=30).run(TURN))
    async with asyncio.timeout(5):
        await fake.received(1)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the cancellation was swallowed")
    assert [r.status for r in recorder.finished] == ["cancelled"]
