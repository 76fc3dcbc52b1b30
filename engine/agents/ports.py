"""The ports the agent layer reaches the outside through; botrt and the lead fill them in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal, Protocol

import msgspec

# ---- HTTP (implemented in botrt over aiohttp, which engine must not import) ---------------


class LLMTransport(Protocol):
    """Carries chat-completions requests; raises the typed errors of engine.agents.errors.

    Implementations map HTTP statuses with ``error_for_status``, connection failures to
    ``LLMUnavailable`` and timeouts to ``LLMTimeout``. ``timeout_s`` sets socket-level timeouts
    (connect, idle read), which a caller's asyncio.timeout cannot express for a stream; the
    client still wraps every await in asyncio.timeout so a transport cannot hang a turn.
    """

    async def post_json(
        self, url: str, headers: Mapping[str, str], body: Mapping[str, Any], *, timeout_s: float
    ) -> dict[str, Any]:
        """POSTs JSON and returns the decoded JSON object of a 2xx answer."""
        ...

    def stream_sse(
        self, url: str, headers: Mapping[str, str], body: Mapping[str, Any], *, timeout_s: float
    ) -> AsyncIterator[dict[str, Any]]:
        """POSTs JSON and yields each SSE ``data:`` JSON object until ``[DONE]`` or the end.

        ``timeout_s`` bounds the connection and each wait for more bytes, not the whole stream.
        """
        ...


class HttpResponse(msgspec.Struct, frozen=True, kw_only=True):
    """What an upstream answered an HTTP tool."""

    status: int
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    body: bytes = b""


class HttpCaller(Protocol):
    """Sends an HTTP tool's request; any status is a response, only no answer raises HttpCallError."""

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None, timeout_s: float
    ) -> HttpResponse: ...


# ---- knowledge (implemented by the knowledge engine) --------------------------------------


class Passage(msgspec.Struct, frozen=True, kw_only=True):
    """A retrieved passage with what a citation needs."""

    text: str
    document: str
    position: int = 0
    score: float = 0.0
    url: str | None = None


class KnowledgeSearch(Protocol):
    """Searches the bot's knowledge base, filtered by tenant and bot."""

    async def search(self, query: str, *, org_id: str, bot_id: str, limit: int) -> Sequence[Passage]: ...


# ---- records (persisted by the lead into agent_runs / agent_run_steps / usage_events) ----

RunStatus = Literal["succeeded", "failed", "cancelled", "limit_reached"]
StepKind = Literal["llm_call", "tool_call", "route", "handoff", "final"]
StepStatus = Literal["succeeded", "failed", "timed_out"]


class RunStarted(msgspec.Struct, frozen=True, kw_only=True):
    """An agent began a turn."""

    run_id: str
    parent_run_id: str | None
    org_id: str
    bot_id: str
    conversation_id: str
    agent: str
    agent_id: str | None
    model: str
    started_at: float


class StepRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One step of a run: an LLM call, a tool call, or a routing decision."""

    run_id: str
    org_id: str
    step_no: int
    kind: StepKind
    status: StepStatus
    # Trimmed summaries (JSON objects), not full payloads: enough to debug, small enough to keep.
    input: dict[str, Any]
    output: dict[str, Any]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    tool: str | None = None


class RunFinished(msgspec.Struct, frozen=True, kw_only=True):
    """A run ended; ``error`` says why when the status is not succeeded."""

    run_id: str
    org_id: str
    status: RunStatus
    steps: int
    prompt_tokens: int
    completion_tokens: int
    error: str | None
    finished_at: float


class AgentRecorder(Protocol):
    """Persists runs and steps (agent_runs, agent_run_steps, tool_executions)."""

    async def run_started(self, run: RunStarted) -> None: ...

    async def step(self, step: StepRecord) -> None: ...

    async def run_finished(self, run: RunFinished) -> None: ...


class TokenUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Tokens one LLM call used, for usage_events."""

    org_id: str
    bot_id: str
    conversation_id: str
    run_id: str
    agent: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    # True when the server reported no usage and the figures are counted from characters.
    estimated: bool
    # Stable per call, so a retried batch is counted once.
    idempotency_key: str


class UsageMeter(Protocol):
    """Meters tokens into usage_events."""

    async def record(self, usage: TokenUsage) -> None: ...
