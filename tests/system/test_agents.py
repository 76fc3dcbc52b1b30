"""An LLM agent node end to end: streamed deltas in the widget, runs, steps and tokens stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import msgspec
import pytest

from runtime.config import Settings
from tests.chat import ChatClient
from tests.conftest import LiveServer, start_server
from tests.fakes.openai import Call, FakeOpenAI, Hang, Text, ToolCalls
from tests.system.conftest import write_bot

AGENT_BOT = """
[agents.helper]
system_prompt = "You help customers of the Bistro. Be brief."
tools = ["set_slot", "handoff"]
max_steps = 3
wall_time_s = 2.0
error_reply = "Sorry, I can't answer right now."

[flow]
start = "assistant"

[[flow.nodes]]
id = "assistant"
kind = "agent"
agent = "helper"
prompt = "Ask me anything."
next = "bye"

[[flow.nodes]]
id = "bye"
kind = "say"
text = "Bye!"
"""


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def agent_server(database_url: str, tmp_path: Path, fake_llm: FakeOpenAI) -> AsyncIterator[LiveServer]:
    write_bot(tmp_path / "bots", "bistro", '[[channels]]\ntype = "webchat"\nslug = "bistro"\n', flow=AGENT_BOT)
    settings = Settings(
        database_url=database_url,
        bots=str(tmp_path / "bots"),
        data_dir=str(tmp_path / "data"),
        llm_base_url=fake_llm.base_url,
        llm_model="fake-gpt",
        llm_api_key="sk-test",
    )
    server = await start_server(settings)
    yield server
    await server.close()


async def rows(server: LiveServer, sql: str) -> list[asyncpg.Record]:
    con = await asyncpg.connect(server.settings.database_url)
    try:
        return list(await con.fetch(sql))
    finally:
        await con.close()


async def test_agent_answer_streams_deltas_then_one_message_and_is_metered(
    agent_server: LiveServer, fake_llm: FakeOpenAI
) -> None:
    fake_llm.script(Text("We open at noon every day.", usage=(42, 7), chunk_chars=5))
    chat = await ChatClient.connect(agent_server.ws_base, "bistro")
    await chat.reply_containing("Ask me anything.")
    await chat.say("When do you open?")
    final = await chat.reply_containing("We open at noon")
    deltas = [f["text"] for f in chat.frames if f["type"] == "delta"]
    assert len(deltas) >= 3 and "".join(deltas) == "We open at noon every day."
    assert final["text"] == "We open at noon every day."
    request = fake_llm.chat_requests[0]
    assert request["stream"] is True and request["model"] == "fake-gpt"
    assert request["messages"][0]["role"] == "system" and "Bistro" in request["messages"][0]["content"]
    assert request["messages"][-1] == {"role": "user", "content": "When do you open?"}
    runs = await rows(agent_server, "SELECT status, steps, prompt_tokens, completion_tokens FROM agent_runs")
    assert [tuple(r) for r in runs] == [("succeeded", 1, 42, 7)]
    usage = await rows(agent_server, "SELECT metric, quantity FROM usage_events ORDER BY metric")
    assert [tuple(r) for r in usage] == [("llm_completion_tokens", 7), ("llm_prompt_tokens", 42)]
    await chat.close()


async def test_tool_calls_set_slots_and_hand_off_to_a_human(agent_server: LiveServer, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(
        ToolCalls(Call("set_slot", {"name": "party_size", "value": "4"})),
        ToolCalls(Call("handoff", {"reason": "wants a private room"})),
        Text("Let me get a colleague for you."),
    )
    chat = await ChatClient.connect(agent_server.ws_base, "bistro")
    await chat.reply_containing("Ask me anything.")
    await chat.say("A private room for 4, please")
    await chat.reply_containing("colleague")
    for _ in range(50):
        status = await rows(agent_server, "SELECT status, state FROM conversations")
        if status[0]["status"] == "handoff":
            break
        await asyncio.sleep(0.1)
    assert status[0]["status"] == "handoff"
    handoff = await rows(agent_server, "SELECT requested_by, reason FROM handoffs")
    assert handoff[0]["reason"] == "wants a private room"
    steps = await rows(agent_server, "SELECT kind FROM agent_run_steps ORDER BY step_no")
    assert [r["kind"] for r in steps] == ["llm_call", "tool_call", "llm_call", "handoff", "llm_call"]
    # While a human has it, the bot (and its agent) stay silent.
    await chat.say("hello?")
    await asyncio.sleep(0.3)
    assert len(fake_llm.chat_requests) == 3
    await chat.close()


async def test_a_hanging_llm_gives_a_graceful_reply(agent_server: LiveServer, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Hang())
    chat = await ChatClient.connect(agent_server.ws_base, "bistro")
    await chat.reply_containing("Ask me anything.")
    await chat.say("Are you there?")
    reply = await chat.reply_containing("Sorry", timeout=15)
    assert reply["text"] in ("Sorry, I can't answer right now.",) or reply["text"].startswith("Sorry")
    runs = await rows(agent_server, "SELECT status FROM agent_runs")
    assert runs[0]["status"] in ("failed", "limit_reached")
    await chat.close()


class Guard:
    """A plugin on the agent hooks: tunes every request, watches answers, vetoes handoffs."""

    name = "guard"

    def __init__(self) -> None:
        self.answers: list[str] = []

    async def on_before_agent(self, request: object, ctx: object) -> object:
        return msgspec.structs.replace(request, temperature=0.0)  # type: ignore[type-var]

    async def on_after_agent(self, response: object, ctx: object) -> None:
        self.answers.append(str(response))

    async def on_tool_call(self, call: object, ctx: object) -> object:
        from engine.agents import ToolResult

        if getattr(getattr(call, "function", None), "name", "") == "handoff":
            return ToolResult(content={"error": "handoffs are closed tonight"}, is_error=True)
        return None


async def test_plugins_see_agent_requests_and_can_veto_a_tool_call(
    database_url: str, tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    from runtime.hooks import HookRegistry

    write_bot(tmp_path / "bots", "bistro", '[[channels]]\ntype = "webchat"\nslug = "bistro"\n', flow=AGENT_BOT)
    guard = Guard()
    hooks = HookRegistry()
    hooks.register(guard)
    settings = Settings(
        database_url=database_url, bots=str(tmp_path / "bots"), data_dir=str(tmp_path / "data"),
        llm_base_url=fake_llm.base_url, llm_model="fake-gpt",
    )
    server = await start_server(settings, hooks=hooks)
    try:
        fake_llm.script(ToolCalls(Call("handoff", {"reason": "tired"})), Text("I'll keep helping you myself."))
        chat = await ChatClient.connect(server.ws_base, "bistro")
        await chat.reply_containing("Ask me anything.")
        await chat.say("get me a human")
        await chat.reply_containing("keep helping you myself")
        assert all(r["temperature"] == 0.0 for r in fake_llm.chat_requests)
        tool_reply = fake_llm.chat_requests[1]["messages"][-1]
        assert tool_reply["role"] == "tool" and "closed tonight" in tool_reply["content"]
        assert len(guard.answers) == 2
        assert (await rows(server, "SELECT status FROM conversations"))[0]["status"] == "active"
        assert await rows(server, "SELECT * FROM handoffs") == []
        await chat.close()
    finally:
        await server.close()
