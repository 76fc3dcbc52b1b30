"""What a flow turn takes and gives, and the ports its knowledge and agent nodes call.

engine.flow re-exports all of these; the engine glue implements NodeServices.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Protocol, final

import msgspec

from engine.flowspec import AgentNode, KnowledgeNode
from engine.nlu.types import Understanding
from runtime.events import Button

Status = Literal["active", "handoff", "ended"]


class Said(msgspec.Struct, frozen=True):
    """A message the flow wants sent."""

    text: str
    buttons: tuple[Button, ...] = ()


class UserInput(msgspec.Struct, frozen=True, kw_only=True):
    """What the user said: typed text, or a pressed button's payload and title, and its NLU."""

    text: str
    payload: str | None = None
    understanding: Understanding | None = None


class TurnContext(msgspec.Struct, frozen=True, kw_only=True):
    """Where and when the turn happens; branch conditions and services read it."""

    channel: str = ""  # the channel kind: webchat, telegram, sms, ...
    conversation_id: str = ""
    bot_id: str = ""
    org_id: str = ""
    now: dt.datetime | None = None  # None: the runner's clock (tests pin it)


class Handoff(msgspec.Struct, frozen=True, kw_only=True):
    """A request for a human, raised by a handoff node or an agent."""

    reason: str
    node: str
    queue: str | None = None


class TurnOutput(msgspec.Struct, frozen=True, kw_only=True):
    """What one turn produced: the new state, the messages, and the conversation's status."""

    state: dict[str, Any]
    said: list[Said] = []
    status: Status = "active"
    handoff: Handoff | None = None


class NodeCall(msgspec.Struct, frozen=True, kw_only=True):
    """What a service gets to know about the conversation when a node calls it."""

    context: TurnContext
    slots: dict[str, Any]
    history: list[dict[str, str]]
    understanding: Understanding | None = None


class AgentReply(msgspec.Struct, frozen=True, kw_only=True):
    """An agent's turn: its messages, slots it set, and whether the flow goes on."""

    said: list[Said] = []
    # continue: the agent keeps the conversation; done: the flow goes on at next;
    # handoff: a human takes over (then the agent resumes); end: the conversation ends.
    outcome: Literal["continue", "done", "handoff", "end"] = "continue"
    slots: dict[str, Any] = {}
    reason: str = ""


class NodeServices(Protocol):
    """What knowledge and agent nodes call; the engine glue implements it."""

    async def knowledge_answer(self, query: str, node: KnowledgeNode, call: NodeCall) -> list[Said]:
        """The best passages with citations as messages; [] when nothing relevant is found."""
        ...

    async def agent_turn(self, node: AgentNode, text: str, call: NodeCall) -> AgentReply:
        """One turn of the node's agent answering text."""
        ...


@final
class NoServices:
    """No knowledge base and no LLM: knowledge finds nothing and agents step aside at once."""

    async def knowledge_answer(self, query: str, node: KnowledgeNode, call: NodeCall) -> list[Said]:
        return []

    async def agent_turn(self, node: AgentNode, text: str, call: NodeCall) -> AgentReply:
        return AgentReply(outcome="done")
