"""A router agent: rules first, else the model picks a specialist with route_to; then it answers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any, Final, Literal, final

import msgspec

from engine.agents.agent import history_window, system_prompt
from engine.agents.client import ChatClient, DeltaSink
from engine.agents.errors import LLMError
from engine.agents.ports import AgentRecorder, UsageMeter
from engine.agents.run import RunTrace
from engine.agents.schema import validate
from engine.agents.spec import NO_HOOKS, AgentHooks, AgentResponse, AgentSpec, AgentTurn, TurnRunner
from engine.agents.wire import ChatMessage, ChatRequest, FunctionSpec
from runtime.logging import get_logger

log = get_logger(__name__)
ROUTE_TOOL: Final = "route_to"
DEFAULT_ROUTER_PROMPT: Final = (
    "You route each user message to the specialist best placed to answer it. "
    "Call route_to with that specialist's name. Specialists:\n{specialists}"
)


class RouteRule(msgspec.Struct, frozen=True, kw_only=True):
    """A deterministic route (agent_routes.condition), tried before the model is asked.

    Matches when every condition given holds: the intent equals, the slot equals (or is set,
    when ``equals`` is omitted), a keyword occurs in the message as a whole word.
    """

    agent: str
    intent: str | None = None
    slot: str | None = None
    equals: Any = msgspec.UNSET
    keywords: tuple[str, ...] = ()
    priority: int = 100

    def matches(self, turn: AgentTurn) -> bool:
        if self.intent is None and self.slot is None and not self.keywords:
            return False  # an empty rule would swallow every turn
        if self.intent is not None and turn.intent != self.intent:
            return False
        if self.slot is not None:
            if self.slot not in turn.slots:
                return False
            if self.equals is not msgspec.UNSET and turn.slots[self.slot] != self.equals:
                return False
        if self.keywords:
            text = turn.text.lower()
            return any(re.search(rf"\b{re.escape(k.lower())}\b", text) for k in self.keywords)
        return True


@final
class RouterAgent:
    """Hands each turn to one specialist; its own run records the decision (kind 'route')."""

    def __init__(self, spec: AgentSpec, *, client: ChatClient, recorder: AgentRecorder, meter: UsageMeter,
                 specialists: Sequence[TurnRunner], rules: Sequence[RouteRule] = (),
                 default: str | None = None) -> None:
        if not specialists:
            raise ValueError(f"router {spec.name!r} has no specialists")
        self.spec = spec
        self._client = client
        self._recorder = recorder
        self._meter = meter
        self._specialists = {s.name: s for s in specialists}
        unknown = {r.agent for r in rules} - set(self._specialists)
        if default is not None:
            unknown |= {default} - set(self._specialists)
        if unknown:
            raise ValueError(f"router {spec.name!r} routes to unknown agents {sorted(unknown)}")
        self._rules = sorted(rules, key=lambda r: r.priority)
        # When the model cannot decide (or is down) the turn still goes somewhere sensible.
        self._default = default or specialists[0].name
        self._tool = FunctionSpec(
            name=ROUTE_TOOL,
            description="Hand the conversation to the named specialist.",
            parameters={
                "type": "object",
                "properties": {
                    "agent": {"type": "string", "enum": list(self._specialists)},
                    "reason": {"type": "string"},
                },
                "required": ["agent"],
                "additionalProperties": False,
            },
        )

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    async def run(self, turn: AgentTurn, *, on_delta: DeltaSink | None = None, hooks: AgentHooks | None = None,
                  parent_run_id: str | None = None) -> AgentResponse:
        """Routes, then lets the chosen specialist answer the turn under this run."""
        hooks = hooks or NO_HOOKS
        trace = RunTrace(recorder=self._recorder, meter=self._meter, turn=turn, agent=self.spec.name,
                         agent_id=self.spec.agent_id, model=self._client.model, parent_run_id=parent_run_id)
        await trace.start()
        try:
            chosen, by, note = await self._choose(trace, turn, hooks)
            await trace.step("route", "succeeded", {"text": turn.text[:200], "intent": turn.intent},
                             {"agent": chosen, "by": by, "note": note})
        except asyncio.CancelledError:
            await trace.finish("cancelled", "cancelled")
            raise
        await trace.finish("succeeded", None)
        log.info("agent.routed", router=self.spec.name, agent=chosen, by=by, run_id=trace.run_id)
        response = await self._specialists[chosen].run(turn, on_delta=on_delta, hooks=hooks,
                                                        parent_run_id=trace.run_id)
        return msgspec.structs.replace(response, route=chosen, usage=response.usage + trace.usage)

    async def _choose(self, trace: RunTrace, turn: AgentTurn,
                      hooks: AgentHooks) -> tuple[str, Literal["rule", "model", "fallback"], str]:
        for rule in self._rules:
            if rule.matches(turn):
                return rule.agent, "rule", msgspec.json.encode(rule).decode()
        request = ChatRequest(
            model=self._client.model,
            messages=(
                ChatMessage(role="system", content=self._prompt(turn)),
                *history_window(turn.history, self.spec.history_window),
                ChatMessage(role="user", content=turn.text),
            ),
            tools=(self._tool,),
            # Forcing the call keeps the router from answering the user itself.
            tool_choice={"type": "function", "function": {"name": ROUTE_TOOL}},
            temperature=0.0,
        )
        try:
            async with asyncio.timeout(self.spec.limits.wall_time_s):
                completion = await trace.call_llm(self._client, request, hooks=hooks, on_delta=None)
        except TimeoutError:
            await trace.abandon_pending("wall time limit reached")
            return self._default, "fallback", "router timed out"
        except LLMError as exc:
            return self._default, "fallback", f"router failed: {exc.code}"
        for call in completion.message.tool_calls or ():
            if call.function.name != ROUTE_TOOL:
                continue
            try:
                arguments = msgspec.json.decode(call.function.arguments or "{}")
            except msgspec.DecodeError:
                break
            if isinstance(arguments, dict) and not validate(self._tool.parameters, arguments):
                return arguments["agent"], "model", str(arguments.get("reason", ""))[:200]
            break
        return self._default, "fallback", "the model named no known specialist"

    def _prompt(self, turn: AgentTurn) -> str:
        listing = "\n".join(f"- {name}: {s.description or name}" for name, s in self._specialists.items())
        if self.spec.system_prompt:
            return system_prompt(self.spec, turn) + "\n\nSpecialists:\n" + listing
        return DEFAULT_ROUTER_PROMPT.format(specialists=listing)
