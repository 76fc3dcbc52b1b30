"""The flow runner: walks a validated flow graph one turn at a time.

State between turns is plain data: {"node": waiting ask node or None, "slots": {...},
"retries": n, "flow_version": v}. It persists with the conversation after every turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final, final

from engine.botfile import FlowSpec, NodeSpec
from engine.templates import render
from runtime.events import Button

MAX_STEPS_PER_TURN: Final = 50
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER: Final = re.compile(r"^-?\d+(?:[.,]\d+)?$")


@dataclass(slots=True)
class Said:
    """A message the flow wants sent."""

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(slots=True)
class TurnOutput:
    state: dict[str, Any]
    said: list[Said] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class UserInput:
    """What the user said: typed text, or a pressed button's payload and title."""

    text: str
    payload: str | None = None


@final
class FlowRunner:
    """Runs one flow; stateless itself, all state is passed in and returned."""

    def __init__(self, flow: FlowSpec) -> None:
        self._flow = flow
        self._nodes = {n.id: n for n in flow.nodes}
        self._restart = {k.casefold() for k in flow.restart_keywords}

    def start(self, slots: dict[str, Any] | None = None) -> TurnOutput:
        """Begins at the start node and runs until the flow waits for the user."""
        state: dict[str, Any] = {
            "node": None,
            "slots": dict(slots or {}),
            "retries": 0,
            "flow_version": self._flow.version,
        }
        out = TurnOutput(state=state)
        self._run(self._flow.start, out)
        return out

    def handle(self, state: dict[str, Any], said: UserInput) -> TurnOutput:
        """Feeds the user's input to the waiting node and runs on."""
        if said.text.strip().casefold() in self._restart:
            return self.start()
        out = TurnOutput(state={**state, "slots": dict(state.get("slots", {}))})
        node = self._nodes.get(state.get("node") or "")
        if node is None or node.kind != "ask":
            out.said.append(Said(render(self._flow.fallback, out.state["slots"])))
            return out
        value = self._accept(node, said)
        if value is None:
            retries = int(state.get("retries", 0)) + 1
            out.state["retries"] = retries
            if retries > node.max_retries:
                # Out of patience: say the fallback and ask again from scratch.
                out.state["retries"] = 0
                out.said.append(Said(render(self._flow.fallback, out.state["slots"])))
            else:
                out.said.append(Said(render(node.retry or self._flow.fallback, out.state["slots"])))
            self._ask(node, out)
            return out
        out.state["slots"][node.slot] = value  # type: ignore[index]
        out.state["retries"] = 0
        out.state["node"] = None
        if node.next:
            self._run(node.next, out)
        return out

    def _run(self, node_id: str, out: TurnOutput) -> None:
        slots = out.state["slots"]
        current: str | None = node_id
        for _ in range(MAX_STEPS_PER_TURN):
            if current is None:
                out.state["node"] = None
                return
            node = self._nodes[current]
            match node.kind:
                case "say":
                    out.said.append(Said(render(node.text or "", slots), _buttons(node)))
                    current = node.next
                case "ask":
                    self._ask(node, out)
                    out.state["node"] = node.id
                    return
                case "branch":
                    current = _choose(node, slots)
                case "jump":
                    current = node.target
                case "end":
                    if node.text:
                        out.said.append(Said(render(node.text, slots)))
                    out.state["node"] = None
                    return
        raise RuntimeError(f"flow ran {MAX_STEPS_PER_TURN} steps without waiting for the user (a loop?)")

    def _ask(self, node: NodeSpec, out: TurnOutput) -> None:
        """Says the question, if the node has one; a node without a prompt waits silently."""
        buttons = _buttons(node)
        if not buttons and node.validate == "choice":
            buttons = tuple(Button(title=c, payload=c) for c in node.choices)
        if node.prompt or buttons:
            out.said.append(Said(render(node.prompt or "", out.state["slots"]), buttons))

    def _accept(self, node: NodeSpec, said: UserInput) -> Any:
        text = said.text.strip()
        match node.validate:
            case "text":
                return text or None
            case "number":
                return float(text.replace(",", ".")) if _NUMBER.match(text) else None
            case "email":
                return text if _EMAIL.match(text) else None
            case "choice":
                wanted = (said.payload or text).casefold()
                for choice in node.choices:
                    if choice.casefold() == wanted:
                        return choice
                for button in node.buttons:
                    if button.title.casefold() == wanted or (button.payload or "").casefold() == wanted:
                        return button.payload or button.title
                return None
            case "regex":
                return text if re.fullmatch(node.pattern or "", text) else None
        return None


def _buttons(node: NodeSpec) -> tuple[Button, ...]:
    return tuple(Button(title=b.title, payload=b.payload or b.title) for b in node.buttons)


def _choose(node: NodeSpec, slots: dict[str, Any]) -> str | None:
    for case in node.cases:
        value = slots.get(case.slot)
        text = None if value is None else str(value)
        if (case.equals is not None and text == case.equals) or (text is not None and text in case.one_of):
            return case.next
    return node.default
