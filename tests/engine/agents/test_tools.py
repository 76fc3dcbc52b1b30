"""Tool calls: validation failures fed back to the model, built-ins and their effects."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from botrt.llm_transport import AiohttpTransport
from engine.agents import (
    Agent,
    AgentSpec,
    AgentTurn,
    BuiltinDeps,
    Cited,
    ConversationEnd,
    EndConversationTool,
    FunctionSpec,
    HandoffRequested,
    HandoffTool,
    KnowledgeSearchTool,
    Passage,
    SetSlotTool,
    SlotSet,
    Tool,
    ToolContext,
    ToolDefinition,
    ToolDefinitionError,
    ToolResult,
    build_tool,
    build_tools,
)
from tests.engine.agents.support import MemoryMeter, MemoryRecorder, StaticKnowledge, make_client
from tests.fakes.openai import Call, FakeOpenAI, Text, ToolCalls

TURN = AgentTurn(org_id="org-1", bot_id="bot-1", conversation_id="conv-1", text="Book me a table", slots={"a": 1})


def agent(fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter,
          *tools: Tool) -> Agent:
    return Agent(AgentSpec(name="concierge"), client=make_client(transport, fake.base_url), recorder=recorder,
                 meter=meter, tools=tools)


class Booking:
    """A tool with a strict schema."""

    timeout_s = 5.0
    spec = FunctionSpec(name="book_table", description="Book a table", parameters={
        "type": "object",
        "properties": {"people": {"type": "integer", "minimum": 1, "maximum": 12},
                       "time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}},
        "required": ["people", "time"],
        "additionalProperties": False,
    })

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        self.calls.append(arguments)
        return ToolResult(content={"booked": True})


def tool_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m["role"] == "tool"]


async def test_invalid_arguments_go_back_to_the_model(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(
        ToolCalls(Call("book_table", {"people": 0, "time": "7pm", "vip": True}, id="bad")),
        ToolCalls(Call("book_table", '{"people": 2, "time": ', id="broken")),
        ToolCalls(Call("no_such_tool", {}, id="ghost")),
        ToolCalls(Call("book_table", {"people": 2, "time": "19:00"}, id="good")),
        Text("Booked for two at 19:00."),
    )
    booking = Booking()
    response = await agent(fake, transport, recorder, meter, booking).run(TURN)

    assert response.text == "Booked for two at 19:00."
    assert booking.calls == [{"people": 2, "time": "19:00"}]
    invalid = msgspec.json.decode(tool_messages(fake.chat_requests[1])[0]["content"])
    assert invalid["error"] == "invalid_arguments"
    assert set(invalid["details"]) == {
        "$.people: 0 is less than 1", "$.time: does not match '^[0-2][0-9]:[0-5][0-9]$'", "$.vip: unexpected property"}
    broken = msgspec.json.decode(tool_messages(fake.chat_requests[2])[1]["content"])
    assert broken["error"] == "invalid_arguments" and "not valid JSON" in broken["message"]
    ghost = msgspec.json.decode(tool_messages(fake.chat_requests[3])[2]["content"])
    assert ghost["error"] == "unknown_tool"
    tool_steps = [s for s in recorder.steps_of(response.run_id) if s.kind == "tool_call"]
    assert [s.status for s in tool_steps] == ["failed", "failed", "failed", "succeeded"]


async def test_a_crashing_tool_is_reported_to_the_model(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    class Broken:
        timeout_s = 5.0
        spec = FunctionSpec(name="broken", parameters={"type": "object", "properties": {}})

        async def __call__(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
            raise KeyError("secret detail")

    fake.script(ToolCalls(Call("broken", {})), Text("Sorry, that did not work."))
    response = await agent(fake, transport, recorder, meter, Broken()).run(TURN)
    assert response.status == "succeeded"
    content = msgspec.json.decode(tool_messages(fake.chat_requests[1])[0]["content"])
    assert content == {"error": "tool_failed", "message": "broken failed: KeyError"}


async def test_builtins_report_their_effects(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    passages = [Passage(text="Open 9-17 on weekdays.", document="hours.md", position=2, score=0.9)]
    knowledge = StaticKnowledge(passages)
    slots: list[tuple[str, Any]] = []
    handoffs: list[str] = []
    ends: list[str] = []

    async def on_set(name: str, value: Any) -> None:
        slots.append((name, value))

    async def on_handoff(reason: str) -> None:
        handoffs.append(reason)

    async def on_end(reason: str) -> None:
        ends.append(reason)

    tools = (
        KnowledgeSearchTool(knowledge, limit=3),
        SetSlotTool(allowed=["party_size", "time"], on_set=on_set),
        HandoffTool(on_handoff=on_handoff),
        EndConversationTool(on_end=on_end),
    )
    fake.script(
        ToolCalls(Call("knowledge_search", {"query": "opening hours"}),
                  Call("set_slot", {"name": "party_size", "value": 4}),
                  Call("set_slot", {"name": "mood", "value": "x"})),
        ToolCalls(Call("handoff", {"reason": "wants a private room"}), Call("end_conversation", {})),
        Text("We're open 9-17 [1]. A colleague will take over."),
    )
    response = await agent(fake, transport, recorder, meter, *tools).run(TURN)

    assert knowledge.queries == [("opening hours", "org-1", "bot-1", 3)]
    results = msgspec.json.decode(tool_messages(fake.chat_requests[1])[0]["content"])
    assert results == {"results": [{"source": 1, "document": "hours.md", "position": 2,
                                    "text": "Open 9-17 on weekdays."}]}
    # The slot name outside the allowed list was refused by the schema, never applied.
    assert "invalid_arguments" in tool_messages(fake.chat_requests[1])[2]["content"]
    assert slots == [("party_size", 4)]
    assert handoffs == ["wants a private room"] and ends == [""]
    assert response.effects == (
        Cited(passages=tuple(passages)), SlotSet(name="party_size", value=4),
        HandoffRequested(reason="wants a private room"), ConversationEnd(reason=""),
    )
    assert response.slots == {"party_size": 4}
    assert response.handoff == "wants a private room"
    assert response.ended
    assert response.citations == tuple(passages)
    kinds = [s.kind for s in recorder.steps_of(response.run_id)]
    assert kinds == ["llm_call", "tool_call", "tool_call", "tool_call", "llm_call", "handoff", "tool_call", "llm_call"]


def test_tools_build_from_definitions() -> None:
    deps = BuiltinDeps(knowledge=StaticKnowledge([]), slots=["city"])
    tools = build_tools([
        ToolDefinition(name="search_docs", description="Search our docs", kind="builtin",
                       builtin_name="knowledge_search", timeout_ms=2500),
        ToolDefinition(name="remember", description="Remember", kind="builtin", builtin_name="set_slot"),
    ], builtins=deps)
    assert [t.spec.name for t in tools] == ["search_docs", "remember"]
    assert tools[0].timeout_s == 2.5
    assert tools[1].spec.parameters["properties"]["name"]["enum"] == ["city"]
    with pytest.raises(ToolDefinitionError, match="defined twice"):
        build_tools([ToolDefinition(name="a", description="", kind="builtin", builtin_name="handoff")] * 2)
    with pytest.raises(ToolDefinitionError, match="knowledge base"):
        build_tool(ToolDefinition(name="k", description="", kind="builtin", builtin_name="knowledge_search"))
    with pytest.raises(ToolDefinitionError, match="names are"):
        build_tool(ToolDefinition(name="bad name!", description="", kind="builtin", builtin_name="handoff"))
