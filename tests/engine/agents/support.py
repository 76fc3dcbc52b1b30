"""In-memory implementations of the agent ports, for assertions."""

from __future__ import annotations

from collections.abc import Sequence

from engine.agents import (
    ChatClient,
    LLMConfig,
    Passage,
    RunFinished,
    RunStarted,
    StepRecord,
    TokenUsage,
)
from engine.agents.ports import LLMTransport


class MemoryRecorder:
    """Keeps every run and step it is told about."""

    def __init__(self) -> None:
        self.started: list[RunStarted] = []
        self.steps: list[StepRecord] = []
        self.finished: list[RunFinished] = []

    async def run_started(self, run: RunStarted) -> None:
        self.started.append(run)

    async def step(self, step: StepRecord) -> None:
        self.steps.append(step)

    async def run_finished(self, run: RunFinished) -> None:
        self.finished.append(run)

    def steps_of(self, run_id: str) -> list[StepRecord]:
        return [s for s in self.steps if s.run_id == run_id]

    def finished_run(self, run_id: str) -> RunFinished:
        (run,) = [r for r in self.finished if r.run_id == run_id]
        return run


class MemoryMeter:
    """Keeps every usage record."""

    def __init__(self) -> None:
        self.records: list[TokenUsage] = []

    async def record(self, usage: TokenUsage) -> None:
        self.records.append(usage)


class StaticKnowledge:
    """A knowledge base that returns fixed passages and remembers the queries."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self.queries: list[tuple[str, str, str, int]] = []

    async def search(self, query: str, *, org_id: str, bot_id: str, limit: int) -> Sequence[Passage]:
        self.queries.append((query, org_id, bot_id, limit))
        return self.passages[:limit]


def make_client(transport: LLMTransport, base_url: str, *, retries: int = 0, timeout_s: float = 5.0,
                stream: bool = True, api_key: str | None = "sk-test") -> ChatClient:
    """A client for the fake server."""
    config = LLMConfig(base_url=base_url, model="fake-gpt", api_key=api_key, retries=retries, timeout_s=timeout_s,
                       stream=stream)
    return ChatClient(transport=transport, config=config)
