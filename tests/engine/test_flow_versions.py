"""Flow versions (a conversation finishes on the version it began on) and the engine glue."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from engine.botfile import BotFile, load_bot_file
from engine.engine import BotEngine
from engine.errors import FlowVersionError
from engine.flow import BotFlows, UserInput
from engine.flowspec import FlowSpec, parse_flow
from runtime.events import ConversationStarted, InboundPostback, InboundText
from runtime.hooks import HookContext
from runtime.ports import ConversationSnapshot, EngineResult
from tests.conftest import REPO


def two_step(version: int, thanks: str) -> FlowSpec:
    return parse_flow(
        {
            "version": version,
            "start": "a",
            "nodes": [
                {"id": "a", "kind": "ask", "slot": "name", "prompt": f"v{version}: name?", "next": "b"},
                {"id": "b", "kind": "say", "text": thanks},
            ],
        }
    )


async def test_a_conversation_finishes_on_its_version_and_new_ones_get_the_new_one() -> None:
    flows = BotFlows()
    flows.add(1, two_step(1, "Thanks {{ name }} (v1)"))
    old = await flows.current.start()
    flows.add(2, two_step(2, "Cheers {{ name }} (v2)"))
    assert flows.versions() == [1, 2] and flows.current.version == 2
    runner = flows.runner_for(old.state)
    assert runner.version == 1
    done = await runner.handle(old.state, UserInput(text="Ada"))
    assert [s.text for s in done.said] == ["Thanks Ada (v1)"] and done.status == "ended"
    # Ended: the next message starts on the published version.
    assert flows.runner_for(done.state).version == 2
    new = await flows.runner_for({}).start()
    assert [s.text for s in new.said] == ["v2: name?"] and new.state["flow_version"] == 2


def test_adding_a_version_again_is_idempotent_but_changing_it_is_refused() -> None:
    flows = BotFlows()
    first = flows.add(1, two_step(1, "x"))
    assert flows.add(1, two_step(1, "x")) is first
    with pytest.raises(FlowVersionError, match="different content"):
        flows.add(1, two_step(1, "y"))


async def test_publish_rolls_back_and_unknown_versions_fall_back_to_the_current_one() -> None:
    flows = BotFlows()
    flows.add(1, two_step(1, "v1"))
    flows.add(2, two_step(2, "v2"))
    flows.publish(1)
    assert flows.current.version == 1
    with pytest.raises(FlowVersionError):
        flows.publish(9)
    # A state from a version no longer held (say, after a restart) runs on the current one,
    # which starts over because its node may not exist there.
    stranded = {"node": "gone", "flow_version": 7, "slots": {"name": "Ada"}}
    runner = flows.runner_for(stranded)
    out = await runner.handle(stranded, UserInput(text="hello"))
    assert [s.text for s in out.said] == ["v1: name?"] and out.state["slots"] == {"name": "Ada"}


def test_bot_flows_without_versions_has_no_current() -> None:
    with pytest.raises(LookupError):
        _ = BotFlows().current


# ---- BotEngine --------------------------------------------------------------------------


def snapshot(state: dict[str, Any], *, bot_id: str = "bot", channel: str = "webchat") -> ConversationSnapshot:
    return ConversationSnapshot(
        conversation_id="c1",
        org_id="o1",
        bot_id=bot_id,
        channel_id="ch1",
        channel_kind=channel,
        status="active",
        state=state,
        last_seq=0,
    )


CTX = HookContext(org_id="o1", bot_id="bot", bot_slug="b", conversation_id="c1", channel_kind="webchat")
EVENT = {"org_id": "o1", "conversation_id": "c1", "channel_id": "ch1", "channel_kind": "webchat"}


def text(body: str) -> InboundText:
    return InboundText(event_id="e", ts=time.time(), external_id="x", text=body, **EVENT)


async def talk(engine: BotEngine, state: dict[str, Any], *messages: str) -> tuple[list[str], EngineResult]:
    said: list[str] = []
    result = EngineResult(state=state, messages=())
    for message in messages:
        result = await engine.step(snapshot(result.state), text(message), CTX)
        said.extend(m.text for m in result.messages)  # type: ignore[union-attr]
    return said, result


async def test_engine_runs_the_demo_unchanged() -> None:
    engine = BotEngine()
    engine.add_bot("bot", load_bot_file(REPO / "bots" / "demo.toml"))
    started = await engine.step(snapshot({}), ConversationStarted(event_id="e", ts=time.time(), **EVENT), CTX)
    assert [m.text for m in started.messages] == ["Hi! I'm the botrt demo bot.", "What's your name?"]  # type: ignore[union-attr]
    said, result = await talk(engine, started.state, "Ada")
    assert said[0] == "Nice to meet you, Ada!" and result.status == "active"
    pressed = await engine.step(
        snapshot(result.state),
        InboundPostback(
            event_id="e", ts=time.time(), external_id="y", payload="About botrt", title="About botrt", **EVENT
        ),
        CTX,
    )
    assert "PostgreSQL" in pressed.messages[0].text  # type: ignore[union-attr]


async def test_engine_routes_by_intent_fills_slots_from_entities_and_hands_off() -> None:
    engine = BotEngine()
    engine.add_bot("bot", load_bot_file(REPO / "tests" / "data" / "nlu" / "bistro.toml"))
    said, result = await talk(engine, {}, "hello there")
    assert said[0] == "Hello! Welcome to the bistro." and result.state["node"] == "route"
    said, result = await talk(engine, result.state, "can I book a table for 4 people on 25/12/2026")
    assert said[0] == "Booked: a table for 4 on 2026-12-25."
    said, result = await talk(engine, result.state, "track order ORD-123456 please")
    assert said[0] == "Order ORD-123456 is being prepared."
    said, result = await talk(engine, result.state, "let me talk to a person")
    assert said == ["I'm passing you to a member of staff."] and result.status == "handoff"
    assert result.handoff_reason == "customer asked for a person"
    said, result = await talk(engine, result.state, "tell me a joke")
    assert said[0] == "Sorry, I can help with bookings, opening hours and orders." and result.status == "active"
    said, result = await talk(engine, result.state, "bye")
    assert said == ["Goodbye, see you soon!"] and result.status == "ended"


async def test_engine_keeps_old_conversations_on_their_version(tmp_path: Path) -> None:
    engine = BotEngine()
    bot = load_bot_file(REPO / "tests" / "data" / "bots" / "echo.toml")
    engine.add_bot("bot", bot)
    _, old = await talk(engine, {}, "first")
    changed = parse_flow(msgspec.to_builtins(bot.flow) | {"version": 2})
    changed_nodes = [
        msgspec.structs.replace(n, text="ECHO v2: {{ said }}") if n.id == "echo" else n for n in changed.nodes
    ]
    engine.add_bot("bot", msgspec.structs.replace(bot, flow=msgspec.structs.replace(changed, nodes=changed_nodes)))
    said, old = await talk(engine, old.state, "still v1")
    assert said == ["echo: still v1"] and old.state["flow_version"] == 1
    said, new = await talk(engine, {}, "first", "hello")
    assert said == ["Say something.", "ECHO v2: hello"] and new.state["flow_version"] == 2
    flows = engine.flows("bot")
    assert flows is not None and flows.versions() == [1, 2]


def test_botfile_nlu_is_optional() -> None:
    bot: BotFile = load_bot_file(REPO / "tests" / "data" / "bots" / "echo.toml")
    assert bot.nlu is None


async def test_the_restaurant_example_books_in_one_message_and_hands_off_when_lookup_fails() -> None:
    engine = BotEngine()  # no HttpCaller: the order lookup takes its error edge
    engine.add_bot("bot", load_bot_file(REPO / "bots" / "examples" / "restaurant.toml"))
    said, result = await talk(engine, {}, "I'd like to book a table for 4 people on 25/12/2026 at 7pm outside")
    assert said[0] in ("Good morning!", "Good afternoon!", "Good evening!")
    assert said[1] == "Booked: 4 people on 2026-12-25 at 19:00 (terrace). Reference BK-20261225-4."
    said, result = await talk(engine, result.state, "where is my order ORD-654321")
    assert said == [
        "I couldn't look up ORD-654321 right now.",
        "I'm passing you to a member of staff; they'll reply here.",
    ]
    assert result.status == "handoff"
