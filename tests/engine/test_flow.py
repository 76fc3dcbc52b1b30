"""Flow loading and validation, the shipped bots, and ask-node validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import msgspec
import pytest

from engine.botfile import load_bot_file, load_bots
from engine.errors import BotFileError, FlowError
from engine.flow import FlowRunner, TurnContext, UserInput
from engine.flowspec import FlowSpec, parse_flow, validate_flow
from tests.conftest import REPO

# A Wednesday, 10:30 UTC.
NOW = dt.datetime(2026, 11, 25, 10, 30, tzinfo=dt.UTC)


def flow(*nodes: dict[str, Any], start: str = "a", **extra: Any) -> FlowSpec:
    """A validated flow from node tables, as a bot file would give them."""
    return parse_flow({"start": start, "nodes": list(nodes), **extra})


def runner(spec: FlowSpec) -> FlowRunner:
    return FlowRunner(spec, clock=lambda: NOW)


def write_bot(tmp_path: Path, body: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text('[bot]\nslug="b"\nname="B"\n' + body)
    return path


# ---- validation ---------------------------------------------------------------------------


def test_dangling_edge_names_the_node() -> None:
    with pytest.raises(FlowError) as caught:
        flow({"id": "a", "kind": "say", "text": "hi", "next": "ghost"})
    assert caught.value.node == "a" and "ghost" in str(caught.value)


def test_unreachable_node_names_the_node() -> None:
    with pytest.raises(FlowError) as caught:
        flow({"id": "a", "kind": "say", "text": "hi"}, {"id": "island", "kind": "say", "text": "x"})
    assert caught.value.node == "island"


def test_unknown_node_kind_names_the_node_and_the_file(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as direct:
        flow({"id": "a", "kind": "teleport"})
    assert direct.value.node == "a" and "teleport" in str(direct.value)
    path = write_bot(tmp_path, '[flow]\nstart="a"\n[[flow.nodes]]\nid="a"\nkind="teleport"\n')
    with pytest.raises(BotFileError) as caught:
        load_bot_file(path)
    assert "bad.toml" in str(caught.value) and "teleport" in str(caught.value) and "'a'" in str(caught.value)


@pytest.mark.parametrize(
    ("node", "problem"),
    [
        ({"id": "a", "kind": "say", "text": "hi", "slot": "x"}, "unknown field"),
        ({"id": "a", "kind": "ask", "slot": "x", "validate": "choice"}, "needs choices"),
        ({"id": "a", "kind": "ask", "slot": "x", "validate": "regex", "pattern": "("}, "does not compile"),
        ({"id": "a", "kind": "ask", "slot": "turn"}, "slot 'turn'"),
        ({"id": "a", "kind": "say", "text": "{{ name"}, "template"),
        ({"id": "a", "kind": "branch", "cases": [{"next": "a"}]}, "no condition"),
        ({"id": "a", "kind": "branch", "cases": [{"time_after": "25:00", "next": "a"}]}, "HH:MM"),
        ({"id": "a", "kind": "subflow", "flow": "nowhere"}, "nowhere"),
        ({"id": "a", "kind": "jump"}, "needs target"),
        ({"id": "a", "kind": "http", "url": "ftp://x"}, "http"),
        ({"id": "a", "kind": "router", "routes": {}, "fallback": "a"}, "needs routes"),
    ],
)
def test_malformed_nodes_name_the_node(node: dict[str, Any], problem: str) -> None:
    with pytest.raises(FlowError) as caught:
        flow(node)
    assert caught.value.node == "a" and problem in str(caught.value)


def test_subflows_are_validated_too() -> None:
    with pytest.raises(FlowError) as caught:
        flow(
            {"id": "a", "kind": "subflow", "flow": "sub"},
            subflows={"sub": {"start": "s", "nodes": [{"id": "s", "kind": "say", "text": "x", "next": "gone"}]}},
        )
    assert caught.value.node == "s" and "gone" in str(caught.value)


def test_cross_flow_jumps_and_unused_subflows_are_checked() -> None:
    other = {"other": {"start": "x", "nodes": [{"id": "x", "kind": "say", "text": "x"}]}}
    with pytest.raises(FlowError) as caught:
        flow({"id": "a", "kind": "jump", "flow": "other", "target": "nope"}, subflows=other)
    assert caught.value.node == "a" and "nope" in str(caught.value)
    with pytest.raises(FlowError) as unused:
        flow({"id": "a", "kind": "say", "text": "hi"}, subflows=other)
    assert unused.value.node == "other" and "no node calls" in str(unused.value)


def test_routes_and_entities_are_checked_against_the_nlu(tmp_path: Path) -> None:
    nlu = '[nlu]\nintents = [{ name = "hi", examples = ["hello"] }]\n'
    router = '[flow]\nstart="r"\n[[flow.nodes]]\nid="r"\nkind="router"\nroutes={ bye = "r" }\nfallback="r"\n'
    with pytest.raises(BotFileError, match="bye"):
        load_bot_file(write_bot(tmp_path, router + nlu))
    ask = '[flow]\nstart="a"\n[[flow.nodes]]\nid="a"\nkind="ask"\nslot="x"\nentity="colour"\n'
    with pytest.raises(BotFileError, match="colour"):
        load_bot_file(write_bot(tmp_path, ask + nlu))


def test_flow_round_trips_through_json() -> None:
    """bot_flows.graph stores msgspec.to_builtins(flow); reading it back gives the same flow."""
    bot = load_bot_file(REPO / "tests" / "data" / "nlu" / "bistro.toml")
    stored = msgspec.json.decode(msgspec.json.encode(bot.flow))
    assert parse_flow(stored) == bot.flow
    validate_flow(bot.flow)


def test_duplicate_channel_slug_across_bots_is_refused(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.toml").write_text(
            f'[bot]\nslug="{name}"\nname="n"\n[[channels]]\ntype="webchat"\nslug="shared"\n'
            '[flow]\nstart="a"\n[[flow.nodes]]\nid="a"\nkind="say"\ntext="hi"\n'
        )
    with pytest.raises(BotFileError, match="shared"):
        load_bots(tmp_path)


# ---- the shipped bots ---------------------------------------------------------------------


def test_demo_bot_file_loads() -> None:
    bot = load_bot_file(REPO / "bots" / "demo.toml")
    assert bot.bot.slug == "demo"
    assert [c.slug for c in bot.channel_specs()] == ["demo"]


def test_example_bots_load() -> None:
    examples = sorted((REPO / "bots" / "examples").glob("*.toml"))
    assert examples
    for path in examples:
        load_bot_file(path)


async def test_demo_flow_greets_captures_name_routes_by_intent_and_falls_back_to_knowledge() -> None:
    from engine.nlu import Nlu

    bot = load_bot_file(REPO / "bots" / "demo.toml")
    assert bot.nlu is not None
    nlu = Nlu.lexical(bot.nlu)

    async def said(text: str, payload: str | None = None) -> UserInput:
        return UserInput(text=text, payload=payload, understanding=await nlu.understand(text, payload=payload))

    demo = runner(bot.flow)
    start = await demo.start()
    assert [s.text for s in start.said] == ["Hi! I'm the botrt demo bot.", "What's your name?"]
    named = await demo.handle(start.state, UserInput(text="  Ada "))
    assert named.state["slots"]["name"] == "Ada"
    assert named.said[0].text == "Nice to meet you, Ada!"
    assert [b.title for b in named.said[1].buttons] == ["Hear a fact", "About botrt", "Talk to a human", "Start over"]
    # Not an intent: a question for the agent, then the knowledge base (neither exists here).
    confused = await demo.handle(named.state, await said("banana"))
    assert confused.said[0].text.startswith("I don't know that one yet")
    assert confused.state["node"] == "menu"
    picked = await demo.handle(confused.state, await said("tell me a fact"))
    assert "three hearts" in picked.said[0].text
    restarted = await demo.handle(picked.state, UserInput(text="restart"))
    assert restarted.state["slots"] == {} and restarted.said[-1].text == "What's your name?"


async def test_demo_opening_message_does_not_answer_the_name_question() -> None:
    demo = runner(load_bot_file(REPO / "bots" / "demo.toml").flow)
    start = await demo.start(UserInput(text="hello"))
    assert [s.text for s in start.said] == ["Hi! I'm the botrt demo bot.", "What's your name?"]
    assert start.state["slots"] == {} and start.state["node"] == "ask_name"


async def test_echo_bot_echoes_and_a_silent_opening_question_takes_the_first_message() -> None:
    echo = runner(load_bot_file(REPO / "tests" / "data" / "bots" / "echo.toml").flow)
    start = await echo.start(UserInput(text="first"))
    assert [s.text for s in start.said] == ["Say something."]
    again = await echo.handle(start.state, UserInput(text="one"))
    assert [s.text for s in again.said] == ["echo: one"] and again.state["node"] == "wait"
    silent = runner(
        flow({"id": "a", "kind": "ask", "slot": "v", "next": "b"}, {"id": "b", "kind": "say", "text": "<{{ v }}>"})
    )
    opened = await silent.start(UserInput(text="hi"))
    assert [s.text for s in opened.said] == ["<hi>"]


# ---- ask ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validate", "good", "value", "bad"),
    [
        ("number", "4 people", 4, "lots"),
        ("number", "3,5", 3.5, "ab12"),
        ("email", "Mail me: ada@example.org", "ada@example.org", "ada@"),
        ("phone", "+44 20 7946 0958", "+442079460958", "12"),
        ("date", "tomorrow", "2026-11-26", "someday"),
        ("date", "25/12/2026", "2026-12-25", "31/02/2026"),
        ("date", "Dec 25", "2026-12-25", "Dec 45"),
        ("date", "2027-01-03", "2027-01-03", "2027-13-01"),
        ("date", "next friday", "2026-11-27", "friyay"),
        ("time", "7:30 pm", "19:30", "25:00"),
        ("regex", "AB-12", "AB-12", "ab12"),
        ("choice", "2", "Blue", "purple"),
        ("choice", "red", "Red", "reddish"),
    ],
)
async def test_ask_validation(validate: str, good: str, value: Any, bad: str) -> None:
    spec = flow(
        {
            "id": "a", "kind": "ask", "slot": "v", "prompt": "?", "validate": validate,
            "pattern": r"[A-Z]{2}-\d{2}", "choices": ["Red", "Blue"], "next": "b",
        },
        {"id": "b", "kind": "say", "text": "got {{ v }}"},
    )  # fmt: skip
    ask = runner(spec)
    state = (await ask.start()).state
    wrong = await ask.handle(state, UserInput(text=bad))
    assert wrong.state["node"] == "a" and "v" not in wrong.state["slots"]
    right = await ask.handle(state, UserInput(text=good))
    assert right.state["slots"]["v"] == value
    assert right.said[0].text == f"got {value}"


async def test_number_bounds() -> None:
    ask = runner(flow({"id": "a", "kind": "ask", "slot": "n", "validate": "number", "min": 1, "max": 20}))
    state = (await ask.start()).state
    assert (await ask.handle(state, UserInput(text="40"))).state["node"] == "a"
    assert (await ask.handle(state, UserInput(text="12"))).state["slots"]["n"] == 12


async def test_reprompt_limit_then_on_fail() -> None:
    spec = flow(
        {"id": "a", "kind": "ask", "slot": "n", "prompt": "A number?", "validate": "number",
         "retry": "Digits, please.", "max_retries": 1, "on_fail": "give_up", "next": "ok"},
        {"id": "ok", "kind": "say", "text": "thanks"},
        {"id": "give_up", "kind": "say", "text": "Let's skip that."},
    )  # fmt: skip
    ask = runner(spec)
    state = (await ask.start()).state
    first = await ask.handle(state, UserInput(text="no"))
    assert [s.text for s in first.said] == ["Digits, please.", "A number?"]
    assert first.state["retries"] == 1
    second = await ask.handle(first.state, UserInput(text="still no"))
    assert [s.text for s in second.said] == ["Let's skip that."]
    assert second.state["retries"] == 0 and second.status == "ended"


async def test_reprompt_limit_without_on_fail_says_the_fallback_and_asks_again() -> None:
    ask = runner(
        flow({"id": "a", "kind": "ask", "slot": "n", "prompt": "A number?", "validate": "number", "max_retries": 0})
    )
    state = (await ask.start()).state
    out = await ask.handle(state, UserInput(text="no"))
    assert [s.text for s in out.said] == ["Sorry, I didn't get that.", "A number?"]
    assert out.state["node"] == "a" and out.state["retries"] == 0


async def test_ask_skips_when_filled_and_choice_buttons_are_offered() -> None:
    spec = flow(
        {"id": "a", "kind": "ask", "slot": "name", "prompt": "Name?", "skip_if_filled": True, "next": "b"},
        {"id": "b", "kind": "ask", "slot": "colour", "prompt": "Colour, {{ name }}?", "validate": "choice",
         "choices": ["Red", "Blue"]},
    )  # fmt: skip
    out = await runner(spec).start(slots={"name": "Ada"})
    assert out.said[0].text == "Colour, Ada?"
    assert [(b.title, b.payload) for b in out.said[0].buttons] == [("Red", "Red"), ("Blue", "Blue")]


async def test_state_is_plain_json_with_version_and_history() -> None:
    demo = runner(load_bot_file(REPO / "bots" / "demo.toml").flow)
    start = await demo.start(context=TurnContext(channel="webchat"))
    named = await demo.handle(start.state, UserInput(text="Ada"))
    state = msgspec.json.decode(msgspec.json.encode(named.state))
    assert state["flow_version"] == 1 and state["flow"] == "main" and state["stack"] == []
    assert state["history"][-3:] == [
        {"role": "user", "text": "Ada"},
        {"role": "bot", "text": "Nice to meet you, Ada!"},
        {"role": "bot", "text": "What would you like to do, Ada?"},
    ]


async def test_state_from_before_subflows_still_runs() -> None:
    """States persisted by the earlier runner had no flow, stack or history keys."""
    demo = runner(load_bot_file(REPO / "bots" / "demo.toml").flow)
    old = {"node": "ask_name", "slots": {}, "retries": 0, "flow_version": 1}
    out = await demo.handle(old, UserInput(text="Ada"))
    assert out.said[0].text == "Nice to meet you, Ada!"
