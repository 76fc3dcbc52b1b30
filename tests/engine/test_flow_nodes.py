"""Each node kind: branch, router, set, jump, subflow, end, handoff, knowledge, agent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.flow import AgentReply, FlowRunner, NodeCall, Said, TurnContext, UserInput
from engine.flowspec import AgentNode, FlowSpec, KnowledgeNode, parse_flow
from engine.nlu import Entity, Understanding

NOW = dt.datetime(2026, 11, 25, 10, 30, tzinfo=dt.UTC)  # a Wednesday


def flow(*nodes: dict[str, Any], start: str = "a", **extra: Any) -> FlowSpec:
    return parse_flow({"start": start, "nodes": list(nodes), **extra})


def say(node_id: str, text: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "kind": "say", "text": text or node_id, **extra}


def understood(text: str, intent: str, confidence: float = 0.9, *entities: Entity, fallback: bool = False) -> UserInput:
    return UserInput(
        text=text,
        understanding=Understanding(
            text=text, intent=intent, confidence=confidence, entities=entities, is_fallback=fallback
        ),
    )


def texts(out: Any) -> list[str]:
    return [s.text for s in out.said]


# ---- branch -------------------------------------------------------------------------------


def branch(*cases: dict[str, Any]) -> FlowSpec:
    targets = {c["next"] for c in cases} | {"other"}
    return flow(
        {"id": "a", "kind": "branch", "cases": list(cases), "default": "other"},
        *(say(t) for t in sorted(targets)),
    )


@pytest.mark.parametrize(
    ("case", "slots", "expected"),
    [
        ({"slot": "age", "gte": 18, "next": "adult"}, {"age": 30}, "adult"),
        ({"slot": "age", "gte": 18, "next": "adult"}, {"age": "12"}, "other"),
        ({"slot": "age", "lt": 18, "next": "minor"}, {"age": "twelve"}, "other"),
        ({"slot": "plan", "equals": "gold", "next": "vip"}, {"plan": "gold"}, "vip"),
        ({"slot": "plan", "one_of": ["gold", "silver"], "next": "vip"}, {"plan": "silver"}, "vip"),
        ({"slot": "plan", "not_equals": "gold", "next": "std"}, {"plan": "free"}, "std"),
        ({"slot": "n", "equals": 42, "next": "x"}, {"n": "42.0"}, "x"),
        ({"slot": "email", "next": "has"}, {"email": "a@b.co"}, "has"),
        ({"slot": "email", "next": "has"}, {"email": ""}, "other"),
        ({"slot": "email", "exists": False, "next": "none"}, {}, "none"),
        ({"slot": "code", "matches": "^A\\d+$", "next": "ok"}, {"code": "A12"}, "ok"),
        ({"expr": "people|int > 8 and vip", "next": "big"}, {"people": "10", "vip": True}, "big"),
        ({"expr": "people.__class__", "next": "big"}, {"people": "10"}, "other"),
    ],
)
async def test_branch_on_slots(case: dict[str, Any], slots: dict[str, Any], expected: str) -> None:
    out = await FlowRunner(branch(case), clock=lambda: NOW).start(slots=slots)
    assert texts(out) == [expected]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"weekdays": ["wed"], "next": "midweek"}, "midweek"),
        ({"weekdays": ["sat", "sun"], "next": "weekend"}, "other"),
        ({"time_after": "09:00", "time_before": "17:00", "next": "open"}, "open"),
        ({"time_after": "22:00", "time_before": "06:00", "next": "night"}, "other"),
        ({"time_before": "11:00", "next": "morning"}, "morning"),
        ({"channel": ["sms", "whatsapp"], "next": "short"}, "short"),
        ({"channel": "webchat", "next": "web"}, "other"),
    ],
)
async def test_branch_on_time_weekday_and_channel(case: dict[str, Any], expected: str) -> None:
    out = await FlowRunner(branch(case), clock=lambda: NOW).start(context=TurnContext(channel="sms"))
    assert texts(out) == [expected]


async def test_time_conditions_use_the_flows_timezone() -> None:
    spec = parse_flow(
        {
            "start": "a",
            "timezone": "Asia/Tokyo",  # 10:30 UTC is 19:30 in Tokyo
            "nodes": [
                {"id": "a", "kind": "branch", "cases": [{"time_after": "18:00", "next": "e"}], "default": "d"},
                say("e", "evening"),
                say("d", "day"),
            ],
        }
    )
    assert texts(await FlowRunner(spec, clock=lambda: NOW).start()) == ["evening"]
    pinned = TurnContext(now=dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC))
    assert texts(await FlowRunner(spec).start(context=pinned)) == ["day"]


async def test_branch_on_intent_and_entity() -> None:
    spec = flow(
        {"id": "a", "kind": "ask", "slot": "q", "next": "b"},
        {
            "id": "b",
            "kind": "branch",
            "cases": [
                {"intent": ["refund", "cancel"], "min_confidence": 0.5, "next": "money"},
                {"entity": "email", "next": "mail"},
            ],
            "default": "other",
        },
        say("money"),
        say("mail"),
        say("other"),
    )
    run = FlowRunner(spec)
    state = (await run.start()).state
    assert texts(await run.handle(state, understood("refund me", "refund"))) == ["money"]
    assert texts(await run.handle(state, understood("refund me", "refund", 0.2))) == ["other"]
    mail = Entity(entity="email", value="a@b.co", text="a@b.co", start=0, end=6, extractor="builtin")
    assert texts(await run.handle(state, understood("a@b.co", "other", 0.9, mail))) == ["mail"]


# ---- router -------------------------------------------------------------------------------


def router_flow(**router: Any) -> FlowSpec:
    return flow(
        {"id": "a", "kind": "router", "prompt": "How can I help?", "routes": {"book": "b", "hours": "h"},
         "fallback": "f", **router},
        say("b", "booking", next="a"),
        say("h", "hours", next="a"),
        say("f", "sorry", next="a"),
    )  # fmt: skip


async def test_router_waits_then_routes_by_intent_and_falls_back() -> None:
    run = FlowRunner(router_flow())
    start = await run.start()
    assert texts(start) == ["How can I help?"] and start.state["node"] == "a"
    booked = await run.handle(start.state, understood("table for two", "book"))
    assert texts(booked) == ["booking", "How can I help?"]
    unsure = await run.handle(booked.state, understood("hmm", "fallback", 0.1, fallback=True))
    assert texts(unsure) == ["sorry", "How can I help?"]
    unknown = await run.handle(booked.state, understood("weather?", "weather"))
    assert texts(unknown)[0] == "sorry"
    no_nlu = await run.handle(booked.state, UserInput(text="hours"))
    assert texts(no_nlu)[0] == "sorry"


async def test_router_routes_the_opening_message_and_button_payload_intents() -> None:
    run = FlowRunner(router_flow())
    opened = await run.start(understood("when are you open", "hours"))
    assert texts(opened) == ["hours", "How can I help?"]
    pressed = await run.handle(opened.state, UserInput(text="Book", payload="/book"))
    assert texts(pressed)[0] == "booking"


async def test_router_min_confidence() -> None:
    run = FlowRunner(router_flow(min_confidence=0.8))
    state = (await run.start()).state
    assert texts(await run.handle(state, understood("book?", "book", 0.5)))[0] == "sorry"
    assert texts(await run.handle(state, understood("book!", "book", 0.9)))[0] == "booking"


async def test_entities_of_the_routed_message_fill_later_questions() -> None:
    spec = flow(
        {"id": "a", "kind": "router", "routes": {"book": "people"}, "fallback": "a"},
        {"id": "people", "kind": "ask", "slot": "people", "entity": "number", "validate": "number",
         "prompt": "How many?", "next": "day"},
        {"id": "day", "kind": "ask", "slot": "day", "entity": "date", "validate": "date", "prompt": "Day?",
         "next": "kids"},
        {"id": "kids", "kind": "ask", "slot": "kids", "entity": "number", "validate": "number",
         "prompt": "Children?", "next": "done"},
        say("done", "{{ people }} ({{ kids }} children) on {{ day }}"),
    )  # fmt: skip
    four = Entity(entity="number", value=4, text="4", start=14, end=15, extractor="builtin")
    day = Entity(entity="date", value="2026-11-26", text="tomorrow", start=16, end=24, extractor="builtin")
    run = FlowRunner(spec, clock=lambda: NOW)
    out = await run.start(understood("book a table 4 tomorrow", "book", 0.9, four, day))
    # The one number fills the first number question only; "Children?" is still asked.
    assert texts(out) == ["Children?"] and out.state["slots"] == {"people": 4, "day": "2026-11-26"}
    done = await run.handle(out.state, UserInput(text="0"))
    assert texts(done) == ["4 (0 children) on 2026-11-26"]


# ---- set, jump, subflow, end ----------------------------------------------------------------


async def test_set_renders_templates_keeping_types_and_clears() -> None:
    spec = flow(
        {"id": "a", "kind": "set", "values": {"total": "{{ price * qty }}", "label": "x{{ qty }}", "flag": True},
         "clear": ["price"], "next": "b"},
        say("b", "{{ total + 1 }} {{ label }} {{ flag }} [{{ price }}]"),
    )  # fmt: skip
    out = await FlowRunner(spec).start(slots={"price": 2.5, "qty": 4})
    assert out.state["slots"] == {"qty": 4, "total": 10.0, "label": "x4", "flag": True}
    assert texts(out) == ["11.0 x4 True []"]


async def test_jump_and_subflow_return_to_the_caller() -> None:
    spec = flow(
        say("a", "main start", next="call"),
        {"id": "call", "kind": "subflow", "flow": "address", "next": "after"},
        say("after", "back in main with {{ city }}", next="loop"),
        {"id": "loop", "kind": "jump", "target": "end"},
        {"id": "end", "kind": "end", "text": "bye"},
        subflows={
            "address": {
                "start": "city",
                "nodes": [
                    {"id": "city", "kind": "ask", "slot": "city", "prompt": "City?", "next": "thanks"},
                    {"id": "thanks", "kind": "end", "text": "noted"},
                ],
            }
        },
    )
    run = FlowRunner(spec)
    start = await run.start()
    assert texts(start) == ["main start", "City?"]
    assert start.state["flow"] == "address" and start.state["stack"] == [{"flow": "main", "next": "after"}]
    done = await run.handle(start.state, UserInput(text="Lyon"))
    assert texts(done) == ["noted", "back in main with Lyon", "bye"]
    assert done.status == "ended" and done.state["node"] is None and done.state["stack"] == []


async def test_jump_to_another_flow_does_not_return() -> None:
    spec = flow(
        {"id": "a", "kind": "jump", "flow": "other"},
        subflows={"other": {"start": "x", "nodes": [say("x", "in other")]}},
    )
    out = await FlowRunner(spec).start()
    assert texts(out) == ["in other"] and out.status == "ended"


async def test_end_with_conversation_scope_ends_from_a_subflow() -> None:
    spec = flow(
        {"id": "a", "kind": "subflow", "flow": "sub", "next": "never"},
        say("never"),
        subflows={
            "sub": {"start": "x", "nodes": [{"id": "x", "kind": "end", "text": "over", "scope": "conversation"}]}
        },
    )
    out = await FlowRunner(spec).start()
    assert texts(out) == ["over"] and out.status == "ended"


async def test_a_message_after_the_end_starts_the_flow_again_fresh() -> None:
    spec = flow(
        {"id": "a", "kind": "ask", "slot": "n", "prompt": "Name?", "next": "b"},
        {"id": "b", "kind": "end", "text": "Bye {{ n }}"},
    )
    run = FlowRunner(spec)
    ended = await run.handle((await run.start()).state, UserInput(text="Ada"))
    assert ended.status == "ended"
    again = await run.handle(ended.state, UserInput(text="hello?"))
    assert texts(again) == ["Name?"] and again.status == "active" and again.state["slots"] == {}


async def test_a_loop_says_the_fallback_instead_of_crashing() -> None:
    spec = flow({"id": "a", "kind": "jump", "target": "b"}, {"id": "b", "kind": "jump", "target": "a"})
    out = await FlowRunner(spec).start()
    assert texts(out) == ["Sorry, I didn't get that."] and out.state["node"] is None


async def test_runaway_subflow_recursion_is_stopped() -> None:
    spec = flow(
        {"id": "a", "kind": "subflow", "flow": "again"},
        subflows={"again": {"start": "x", "nodes": [{"id": "x", "kind": "subflow", "flow": "again"}]}},
    )
    out = await FlowRunner(spec).start()
    assert texts(out) == ["Sorry, I didn't get that."] and out.state["stack"] == []


# ---- handoff ------------------------------------------------------------------------------


async def test_handoff_reports_a_request_and_resumes_after_handback() -> None:
    spec = flow(
        {"id": "a", "kind": "ask", "slot": "issue", "prompt": "What's wrong?", "next": "h"},
        {"id": "h", "kind": "handoff", "reason": "user issue: {{ issue }}", "queue": "support",
         "text": "Connecting you to a human.", "next": "back"},
        say("back", "I'm back. Anything else?"),
    )  # fmt: skip
    run = FlowRunner(spec)
    out = await run.handle((await run.start()).state, UserInput(text="card declined"))
    assert out.status == "handoff" and texts(out) == ["Connecting you to a human."]
    assert out.handoff is not None
    assert (out.handoff.reason, out.handoff.queue, out.handoff.node) == ("user issue: card declined", "support", "h")
    resumed = await run.handle(out.state, UserInput(text="thanks"))
    assert texts(resumed) == ["I'm back. Anything else?"] and resumed.handoff is None


# ---- knowledge and agent (through injected services) --------------------------------------


class FakeServices:
    """Records calls; answers from canned data."""

    def __init__(self, answers: dict[str, list[Said]], agent: list[AgentReply]) -> None:
        self.answers = answers
        self.agent = agent
        self.queries: list[str] = []
        self.agent_calls: list[tuple[str, NodeCall]] = []

    async def knowledge_answer(self, query: str, node: KnowledgeNode, call: NodeCall) -> list[Said]:
        self.queries.append(query)
        return self.answers.get(query, [])

    async def agent_turn(self, node: AgentNode, text: str, call: NodeCall) -> AgentReply:
        self.agent_calls.append((text, call))
        return self.agent.pop(0)


async def test_knowledge_answer_and_its_fail_edge() -> None:
    spec = flow(
        {"id": "a", "kind": "ask", "slot": "q", "prompt": "Ask me", "next": "k"},
        {"id": "k", "kind": "knowledge", "next": "a", "on_fail": "nothing"},
        say("nothing", "No idea.", next="a"),
    )
    services = FakeServices({"vegan?": [Said("Yes, three vegan dishes. [menu.md]")]}, [])
    run = FlowRunner(spec, services=services)
    state = (await run.start()).state
    found = await run.handle(state, UserInput(text="vegan?"))
    assert texts(found) == ["Yes, three vegan dishes. [menu.md]", "Ask me"]
    missing = await run.handle(state, UserInput(text="parking?"))
    assert texts(missing) == ["No idea.", "Ask me"]
    assert services.queries == ["vegan?", "parking?"]


async def test_knowledge_without_services_says_the_fallback() -> None:
    spec = flow({"id": "a", "kind": "ask", "slot": "q", "next": "k"}, {"id": "k", "kind": "knowledge"})
    run = FlowRunner(spec)
    out = await run.handle((await run.start()).state, UserInput(text="vegan?"))
    assert texts(out) == ["Sorry, I didn't get that."]


async def test_agent_keeps_the_turn_until_done_and_sets_slots() -> None:
    spec = flow(
        {"id": "a", "kind": "router", "routes": {"chat": "agent"}, "fallback": "agent"},
        {"id": "agent", "kind": "agent", "agent": "concierge", "next": "after"},
        say("after", "Agent done; plan={{ plan }}"),
    )
    services = FakeServices(
        {},
        [
            AgentReply(said=[Said("Which plan?")]),
            AgentReply(said=[Said("Gold it is.")], outcome="done", slots={"plan": "gold", "turn": "ignored"}),
        ],
    )
    run = FlowRunner(spec, services=services)
    first = await run.start(understood("I want to upgrade", "chat"), TurnContext(conversation_id="c1"))
    assert texts(first) == ["Which plan?"] and first.state["node"] == "agent"
    second = await run.handle(first.state, UserInput(text="gold"))
    assert texts(second) == ["Gold it is.", "Agent done; plan=gold"]
    assert "turn" not in second.state["slots"]
    text, call = services.agent_calls[1]
    assert text == "gold" and call.context.conversation_id == ""
    assert call.history[-2:] == [{"role": "bot", "text": "Which plan?"}, {"role": "user", "text": "gold"}]


async def test_agent_can_hand_off_and_end() -> None:
    spec = flow({"id": "a", "kind": "agent", "prompt": "Ask away"})
    services = FakeServices(
        {}, [AgentReply(outcome="handoff", reason="angry"), AgentReply(said=[Said("Bye")], outcome="end")]
    )
    run = FlowRunner(spec, services=services)
    start = await run.start()
    assert texts(start) == ["Ask away"]
    handed = await run.handle(start.state, UserInput(text="!!!"))
    assert handed.status == "handoff" and handed.handoff is not None and handed.handoff.reason == "angry"
    ended = await run.handle(handed.state, UserInput(text="bye"))
    assert texts(ended) == ["Bye"] and ended.status == "ended"


async def test_agent_without_an_llm_steps_aside() -> None:
    spec = flow(
        {"id": "a", "kind": "ask", "slot": "q", "next": "agent"},
        {"id": "agent", "kind": "agent", "next": "plain"},
        say("plain", "Here's the menu instead."),
    )
    run = FlowRunner(spec)
    out = await run.handle((await run.start()).state, UserInput(text="hi"))
    assert texts(out) == ["Here's the menu instead."]
