"""What an agent is (spec, limits), what a turn gives it, and what it answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import msgspec

from engine.agents.client import DeltaSink
from engine.agents.ports import Passage, RunStatus
from engine.agents.tools import Cited, ConversationEnd, HandoffRequested, SlotSet, ToolEffect, ToolResult
from engine.agents.wire import ChatCompletion, ChatMessage, ChatRequest, ToolCall, Usage


class AgentLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Per-turn bounds; reaching one ends the turn with the spec's limit_reply."""

    # LLM calls per turn (each may be followed by tool calls).
    max_steps: int = 6
    # Prompt + completion tokens over all the turn's LLM calls.
    max_tokens: int = 4000
    # Everything: model calls, tools, hooks.
    wall_time_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.max_tokens < 1 or self.wall_time_s <= 0:
            raise ValueError("agent limits must be positive")


class AgentSpec(msgspec.Struct, frozen=True, kw_only=True):
    """An agent as data (the agents table or a bot file)."""

    name: str
    agent_id: str | None = None
    # What a router reads to decide whether to hand a turn to this agent.
    description: str = ""
    # May use {{ slot }}, {{ slots.name }}, {{ intent }}, {{ channel }}.
    system_prompt: str = ""
    temperature: float | None = 0.2
    max_completion_tokens: int | None = None
    # Earlier messages sent along, counted in messages.
    history_window: int = 20
    limits: AgentLimits = AgentLimits()
    limit_reply: str = "Sorry, that took me too long to work out. Could you rephrase or ask something simpler?"
    error_reply: str = "Sorry, I can't answer right now. Please try again in a moment."


class AgentTurn(msgspec.Struct, frozen=True, kw_only=True):
    """One user message for an agent, with the conversation around it."""

    org_id: str
    bot_id: str
    conversation_id: str
    text: str
    history: tuple[ChatMessage, ...] = ()
    slots: dict[str, Any] = msgspec.field(default_factory=dict)
    intent: str | None = None
    channel: str = ""


FailureCode = Literal[
    "max_steps", "max_tokens", "wall_time", "empty_answer", "internal",
    "llm_error", "llm_rate_limited", "llm_unavailable", "llm_timeout", "llm_rejected", "llm_protocol",
]


class AgentFailure(msgspec.Struct, frozen=True, kw_only=True):
    """Why a turn ended without the model's own answer: the error event of the turn."""

    code: FailureCode | str
    message: str
    agent: str
    run_id: str


class AgentResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a turn: the reply to send, the effects to apply, and what it cost."""

    run_id: str
    agent: str
    text: str
    status: RunStatus
    error: AgentFailure | None = None
    # New messages for the history: the user's, tool calls and results, the reply.
    messages: tuple[ChatMessage, ...] = ()
    effects: tuple[ToolEffect, ...] = ()
    usage: Usage = Usage()
    steps: int = 0
    # The specialist a router handed the turn to.
    route: str | None = None

    @property
    def slots(self) -> dict[str, Any]:
        """Slots set during the turn (last write wins)."""
        return {e.name: e.value for e in self.effects if isinstance(e, SlotSet)}

    @property
    def handoff(self) -> str | None:
        """The reason, when the agent asked for a human."""
        reasons = [e.reason for e in self.effects if isinstance(e, HandoffRequested)]
        return reasons[-1] if reasons else None

    @property
    def ended(self) -> bool:
        return any(isinstance(e, ConversationEnd) for e in self.effects)

    @property
    def citations(self) -> tuple[Passage, ...]:
        return tuple(p for e in self.effects if isinstance(e, Cited) for p in e.passages)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentHooks:
    """Optional callables the caller plugs in (botrt connects them to the plugin registry).

    before_agent and after_agent see each LLM request and response and return it, maybe
    replaced; tool_call returns the call (maybe replaced) or a ToolResult to answer it without
    running the tool (a plugin vetoing a call); error hears every failure of a turn.
    """

    before_agent: Callable[[ChatRequest], Awaitable[ChatRequest]] | None = None
    after_agent: Callable[[ChatCompletion], Awaitable[ChatCompletion]] | None = None
    tool_call: Callable[[ToolCall], Awaitable[ToolCall | ToolResult]] | None = None
    error: Callable[[AgentFailure], Awaitable[None]] | None = None


NO_HOOKS = AgentHooks()


class TurnRunner(Protocol):
    """Anything that answers a turn: an agent, or a router in front of agents."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    async def run(
        self,
        turn: AgentTurn,
        *,
        on_delta: DeltaSink | None = None,
        hooks: AgentHooks | None = None,
        parent_run_id: str | None = None,
    ) -> AgentResponse: ...
