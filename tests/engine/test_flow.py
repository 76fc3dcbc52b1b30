from __future__ import annotations

from pathlib import Path

import pytest

from engine.botfile import FlowSpec, NodeSpec, load_bot_file, load_bots, validate_flow
from engine.errors import BotFileError, FlowError
from engine.flow import FlowRunner, UserInput
from engine.templates import render
from tests.conftest import REPO


def flow(*nodes: NodeSpec, start: str = "a") -> FlowSpec:
    return FlowSpec(start=start, nodes=list(nodes))


def test_dangling_edge_names_the_node() -> None:
    with pytest.raises(FlowError) as caught:
        validate_flow(flow(NodeSpec(id="a", kind="say", text="hi", next="ghost")))
    assert caught.value.node == "a" and "ghost" in str(caught.value)


def test_unreachable_node_names_the_node() -> None:
    with pytest.raises(FlowError) as caught:
        validate_flow(flow(NodeSpec(id="a", kind="say", text="hi"), NodeSpec(id="island", kind="say", text="x")))
    assert caught.value.node == "island"


def test_unknown_node_kind_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[bot]\nslug="b"\nname="B"\n[flow]\nstart="a"\n[[flow.nodes]]\nid="a"\nkind="teleport"\n')
    with pytest.raises(BotFileError) as caught:
        load_bot_file(path)
    assert "bad.toml" in str(caught.value) and "teleport" in str(caught.value)


def test_duplicate_channel_slug_across_bots_is_refused(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.toml").write_text(
            f'[bot]\nslug="{name}"\nname="n"\n[[channels]]\ntype="webchat"\nslug="shared"\n'
            '[flow]\nstart="a"\n[[flow.nodes]]\nid="a"\nkind="say"\ntext="hi"\n'
        )
    with pytest.raises(BotFileError, match="shared"):
        load_bots(tmp_path)


def test_demo_bot_file_loads() -> None:
    bot = load_bot_file(REPO / "bots" / "demo.toml")
    assert bot.bot.slug == "demo"
    assert [c.slug for c in bot.channel_specs()] == ["demo"]


def test_demo_flow_greets_captures_name_and_reprompts() -> None:
    runner = FlowRunner(load_bot_file(REPO / "bots" / "demo.toml").flow)
    start = runner.start()
    assert [s.text for s in start.said] == ["Hi! I'm the botrt demo bot.", "What's your name?"]
    named = runner.handle(start.state, UserInput(text="  Ada "))
    assert named.state["slots"]["name"] == "Ada"
    assert named.said[0].text == "Nice to meet you, Ada!"
    assert [b.title for b in named.said[1].buttons] == ["Hear a fact", "About botrt", "Start over"]
    confused = runner.handle(named.state, UserInput(text="banana"))
    assert confused.said[0].text.startswith("Sorry Ada")
    assert confused.state["node"] == "menu" and confused.state["retries"] == 1
    picked = runner.handle(confused.state, UserInput(text="Hear a fact", payload="Hear a fact"))
    assert "three hearts" in picked.said[0].text
    restarted = runner.handle(picked.state, UserInput(text="restart"))
    assert restarted.state["slots"] == {} and restarted.said[-1].text == "What's your name?"


@pytest.mark.parametrize(
    ("validate", "good", "bad"),
    [("number", "42", "forty"), ("email", "ada@example.org", "ada@"), ("regex", "AB-12", "ab12")],
)
def test_ask_validation(validate: str, good: str, bad: str) -> None:
    spec = flow(
        NodeSpec(id="a", kind="ask", slot="v", prompt="?", validate=validate, pattern=r"[A-Z]{2}-\d{2}", next="b"),  # type: ignore[arg-type]
        NodeSpec(id="b", kind="say", text="got {{ v }}"),
    )
    validate_flow(spec)
    runner = FlowRunner(spec)
    state = runner.start().state
    assert runner.handle(state, UserInput(text=bad)).state["node"] == "a"
    assert runner.handle(state, UserInput(text=good)).said[0].text.startswith("got ")


def test_templates_render_names_only() -> None:
    assert render("Hi {{ name }}{{missing}}!", {"name": "Ada"}) == "Hi Ada!"
    # No attribute access, calls or indexing: those stay literal text.
    assert render("{{ name.__class__ }} {{ name() }}", {"name": "x"}) == "{{ name.__class__ }} {{ name() }}"
