"""The trace of one run: step numbering, recording, metering, and the LLM step shared by agents."""

from __future__ import annotations

import time
import uuid
from typing import Any, Final, final

from engine.agents.client import ChatClient, DeltaSink
from engine.agents.errors import LLMError, LLMTimeout
from engine.agents.ports import (
    AgentRecorder,
    RunFinished,
    RunStarted,
    RunStatus,
    StepKind,
    StepRecord,
    StepStatus,
    TokenUsage,
    UsageMeter,
)
from engine.agents.spec import AgentHooks, AgentTurn
from engine.agents.wire import ChatCompletion, ChatMessage, ChatRequest, Usage

SUMMARY_CHARS: Final = 500


def clip(text: str | None, limit: int = SUMMARY_CHARS) -> str:
    """Text cut to a summary's length."""
    if not text:
        return ""
    return text if len(text) <= limit else text[:limit] + "…"


def request_summary(request: ChatRequest) -> dict[str, Any]:
    last: ChatMessage | None = request.messages[-1] if request.messages else None
    return {
        "model": request.model,
        "messages": len(request.messages),
        "last": {"role": last.role, "content": clip(last.content)} if last else None,
        "tools": [t.name for t in request.tools],
    }


def completion_summary(completion: ChatCompletion) -> dict[str, Any]:
    calls = completion.message.tool_calls or ()
    return {
        "content": clip(completion.message.content),
        "tool_calls": [{"name": c.function.name, "arguments": clip(c.function.arguments)} for c in calls],
        "finish_reason": completion.finish_reason,
    }


@final
class RunTrace:
    """Records one run and its steps, meters its tokens, and remembers the step in flight."""

    def __init__(self, *, recorder: AgentRecorder, meter: UsageMeter, turn: AgentTurn, agent: str,
                 agent_id: str | None, model: str, parent_run_id: str | None) -> None:
        self.run_id = str(uuid.uuid4())
        self.agent = agent
        self.usage = Usage()
        self.steps = 0
        self.llm_calls = 0
        self._recorder = recorder
        self._meter = meter
        self._turn = turn
        self._agent_id = agent_id
        self._model = model
        self._parent_run_id = parent_run_id
        # The step under way, so a wall-clock cut can still record it as timed out.
        self._pending: tuple[StepKind, dict[str, Any], str | None, float] | None = None

    async def start(self) -> None:
        await self._recorder.run_started(RunStarted(
            run_id=self.run_id, parent_run_id=self._parent_run_id, org_id=self._turn.org_id,
            bot_id=self._turn.bot_id, conversation_id=self._turn.conversation_id, agent=self.agent,
            agent_id=self._agent_id, model=self._model, started_at=time.time(),
        ))

    def begin(self, kind: StepKind, summary: dict[str, Any], tool: str | None = None) -> float:
        """Marks a step as under way; returns its start (monotonic)."""
        started = time.monotonic()
        self._pending = (kind, summary, tool, started)
        return started

    async def step(self, kind: StepKind, status: StepStatus, summary: dict[str, Any], output: dict[str, Any], *,
                   started: float | None = None, usage: Usage | None = None, tool: str | None = None) -> None:
        """Records a finished step."""
        self._pending = None
        self.steps += 1
        latency = int((time.monotonic() - started) * 1000) if started is not None else 0
        await self._recorder.step(StepRecord(
            run_id=self.run_id, org_id=self._turn.org_id, step_no=self.steps, kind=kind, status=status,
            input=summary, output=output, prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0, latency_ms=latency, tool=tool,
        ))

    async def abandon_pending(self, reason: str) -> None:
        """Records the step a deadline cut off, if any, as timed out."""
        if self._pending is not None:
            kind, summary, tool, started = self._pending
            await self.step(kind, "timed_out", summary, {"error": reason}, started=started, tool=tool)

    async def meter(self, model: str, usage: Usage) -> None:
        self.usage = self.usage + usage
        if usage.total_tokens == 0:
            return
        await self._meter.record(TokenUsage(
            org_id=self._turn.org_id, bot_id=self._turn.bot_id, conversation_id=self._turn.conversation_id,
            run_id=self.run_id, agent=self.agent, model=model, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens, estimated=usage.estimated,
            idempotency_key=f"agent:{self.run_id}:{self.steps}",
        ))

    async def finish(self, status: RunStatus, error: str | None) -> None:
        await self._recorder.run_finished(RunFinished(
            run_id=self.run_id, org_id=self._turn.org_id, status=status, steps=self.steps,
            prompt_tokens=self.usage.prompt_tokens, completion_tokens=self.usage.completion_tokens,
            error=error, finished_at=time.time(),
        ))

    async def call_llm(self, client: ChatClient, request: ChatRequest, *, hooks: AgentHooks,
                       on_delta: DeltaSink | None) -> ChatCompletion:
        """One recorded, metered LLM step with the before/after hooks around it. Raises LLMError."""
        if hooks.before_agent is not None:
            request = await hooks.before_agent(request)
        summary = request_summary(request)
        started = self.begin("llm_call", summary)
        self.llm_calls += 1
        try:
            completion = await client.complete(request, on_delta=on_delta)
        except LLMError as exc:
            status: StepStatus = "timed_out" if isinstance(exc, LLMTimeout) else "failed"
            await self.step("llm_call", status, summary, {"error": str(exc), "code": exc.code}, started=started)
            raise
        if hooks.after_agent is not None:
            completion = await hooks.after_agent(completion)
        await self.step("llm_call", "succeeded", summary, completion_summary(completion), started=started,
                        usage=completion.usage)
        await self.meter(completion.model, completion.usage)
        return completion
