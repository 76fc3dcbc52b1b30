"""The agent loop: model, tools, model again, until an answer or a limit; always a reply."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Final, final

import msgspec

from engine.agents import template
from engine.agents.client import ChatClient, DeltaSink
from engine.agents.errors import LLMEmptyAnswer, LLMError
from engine.agents.ports import AgentRecorder, RunStatus, StepKind, UsageMeter
from engine.agents.run import RunTrace, clip
from engine.agents.spec import NO_HOOKS, AgentFailure, AgentHooks, AgentResponse, AgentSpec, AgentTurn
from engine.agents.tools import Execution, HandoffRequested, SlotSet, Tool, ToolContext, ToolEffect, check_tool, execute
from engine.agents.wire import ChatMessage, ChatRequest, ToolCall
from runtime.logging import get_logger

log = get_logger(__name__)
_ENCODER: Final = msgspec.json.Encoder()


class LimitReached(Exception):
    """A per-turn limit ended the loop (internal: the turn turns it into a reply)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def history_window(history: Sequence[ChatMessage], size: int) -> list[ChatMessage]:
    """The last ``size`` messages, starting at a user message.

    A window that starts inside a tool exchange (a tool result without the call that asked for
    it) is refused by chat-completions servers, so such leading messages are dropped.
    """
    window = list(history[-size:]) if size > 0 else []
    while window and window[0].role != "user":
        window.pop(0)
    return window


def system_prompt(spec: AgentSpec, turn: AgentTurn) -> str:
    scope: dict[str, Any] = {**turn.slots, "slots": turn.slots, "intent": turn.intent or "", "channel": turn.channel}
    return template.render(spec.system_prompt, scope)


class _State:
    """What one turn accumulates."""

    def __init__(self, turn: AgentTurn, spec: AgentSpec) -> None:
        prompt = system_prompt(spec, turn)
        user = ChatMessage(role="user", content=turn.text)
        self.messages: list[ChatMessage] = [
            *([ChatMessage(role="system", content=prompt)] if prompt else []),
            *history_window(turn.history, spec.history_window),
            user,
        ]
        self.new: list[ChatMessage] = [user]
        self.effects: list[ToolEffect] = []
        self.slots = dict(turn.slots)

    def add(self, message: ChatMessage) -> None:
        self.messages.append(message)
        self.new.append(message)


@final
class Agent:
    """An LLM agent with tools; ``run`` answers one turn and never raises for LLM or tool trouble."""

    def __init__(self, spec: AgentSpec, *, client: ChatClient, recorder: AgentRecorder, meter: UsageMeter,
                 tools: Sequence[Tool] = ()) -> None:
        self.spec = spec
        self._client = client
        self._recorder = recorder
        self._meter = meter
        for tool in tools:
            check_tool(tool)
        self._tools = {tool.spec.name: tool for tool in tools}
        if len(self._tools) != len(tools):
            raise ValueError(f"agent {spec.name!r}: two tools share a name")

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    async def run(self, turn: AgentTurn, *, on_delta: DeltaSink | None = None, hooks: AgentHooks | None = None,
                  parent_run_id: str | None = None) -> AgentResponse:
        """Answers one turn; limits and failures give the spec's graceful replies and an error event."""
        hooks = hooks or NO_HOOKS
        trace = RunTrace(recorder=self._recorder, meter=self._meter, turn=turn, agent=self.spec.name,
                         agent_id=self.spec.agent_id, model=self._client.model, parent_run_id=parent_run_id)
        state = _State(turn, self.spec)
        await trace.start()
        failure: tuple[str, str] | None = None
        status: RunStatus = "succeeded"
        deadline = asyncio.timeout(self.spec.limits.wall_time_s)
        try:
            async with deadline:
                text = await self._loop(trace, state, turn, on_delta, hooks)
        except TimeoutError as exc:
            if deadline.expired():
                await trace.abandon_pending("wall time limit reached")
                status, failure = "limit_reached", ("wall_time", f"no answer within {self.spec.limits.wall_time_s:g}s")
            else:  # someone else's timeout (a hook's, say): a failure like any other
                status, failure = "failed", ("internal", f"TimeoutError: {clip(str(exc), 200)}")
        except LimitReached as exc:
            status, failure = "limit_reached", (exc.code, str(exc))
        except LLMError as exc:
            status, failure = "failed", (exc.code, str(exc))
        except asyncio.CancelledError:
            # Leave no run 'running' forever; cancellation itself goes on.
            await trace.finish("cancelled", "cancelled")
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must cost the user a graceful reply, not the conversation
            log.exception("agent.failed", agent=self.spec.name, run_id=trace.run_id)
            status, failure = "failed", ("internal", f"{type(exc).__name__}: {clip(str(exc), 200)}")
        await trace.finish(status, failure[1] if failure else None)
        if failure is None:
            return self._response(trace, state, text, status, None)
        error = AgentFailure(code=failure[0], message=failure[1], agent=self.spec.name, run_id=trace.run_id)
        log.warning("agent.turn_failed", agent=self.spec.name, run_id=trace.run_id, code=error.code,
                    error=error.message)
        if hooks.error is not None:
            await hooks.error(error)
        reply = self.spec.limit_reply if status == "limit_reached" else self.spec.error_reply
        # A cut-off tool exchange must not reach the history: the next request would be refused.
        state.new = [state.new[0]]
        return self._response(trace, state, reply, status, error)

    def _response(self, trace: RunTrace, state: _State, text: str, status: RunStatus,
                  error: AgentFailure | None) -> AgentResponse:
        messages = (*state.new, ChatMessage(role="assistant", content=text)) if error else tuple(state.new)
        return AgentResponse(
            run_id=trace.run_id, agent=self.spec.name, text=text, status=status, error=error, messages=messages,
            effects=tuple(state.effects), usage=trace.usage, steps=trace.steps,
        )

    async def _loop(self, trace: RunTrace, state: _State, turn: AgentTurn, on_delta: DeltaSink | None,
                    hooks: AgentHooks) -> str:
        limits = self.spec.limits
        specs = tuple(tool.spec for tool in self._tools.values())
        while True:
            if trace.llm_calls >= limits.max_steps:
                raise LimitReached("max_steps", f"still calling tools after {limits.max_steps} steps")
            if trace.usage.total_tokens >= limits.max_tokens:
                raise LimitReached("max_tokens", f"used {trace.usage.total_tokens} of {limits.max_tokens} tokens")
            request = ChatRequest(
                model=self._client.model, messages=tuple(state.messages), tools=specs,
                tool_choice="auto" if specs else None, temperature=self.spec.temperature,
                max_tokens=self.spec.max_completion_tokens,
            )
            completion = await trace.call_llm(self._client, request, hooks=hooks, on_delta=on_delta)
            message = completion.message
            state.add(message)
            if not message.tool_calls:
                if not message.content:
                    raise LLMEmptyAnswer()
                return message.content
            ctx = ToolContext(org_id=turn.org_id, bot_id=turn.bot_id, conversation_id=turn.conversation_id,
                              run_id=trace.run_id, slots=state.slots)
            for call in message.tool_calls:
                await self._tool_step(trace, state, call, ctx, hooks)

    async def _tool_step(self, trace: RunTrace, state: _State, call: ToolCall, ctx: ToolContext,
                         hooks: AgentHooks) -> None:
        name = call.function.name
        summary = {"name": name, "arguments": clip(call.function.arguments)}
        started = trace.begin("tool_call", summary, tool=name)
        hooked = await hooks.tool_call(call) if hooks.tool_call is not None else call
        if isinstance(hooked, ToolCall):
            execution = await execute(self._tools.get(hooked.function.name), hooked, ctx)
        else:
            execution = Execution(result=hooked, status="failed" if hooked.is_error else "succeeded",
                                  arguments=call.function.arguments)
        result = execution.result
        content = result.content if isinstance(result.content, str) else _ENCODER.encode(result.content).decode()
        # The id ties the result to the call; servers refuse a history where they do not match.
        state.add(ChatMessage(role="tool", tool_call_id=call.id, content=content))
        if result.effect is not None:
            state.effects.append(result.effect)
            if isinstance(result.effect, SlotSet):
                state.slots[result.effect.name] = result.effect.value
        kind: StepKind = "handoff" if isinstance(result.effect, HandoffRequested) else "tool_call"
        await trace.step(kind, execution.status, summary, {"result": clip(content), "is_error": result.is_error},
                         started=started, tool=name)

