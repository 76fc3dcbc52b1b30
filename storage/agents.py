"""Agents' rows, runs, steps and token usage (the agents package's recorder and meter ports)."""

from __future__ import annotations

import time
from typing import Any, final

import asyncpg

from storage.queries import QUERIES
from storage.tenancy import act_for


async def sync_agent(
    con: asyncpg.Connection, *, org_id: str, bot_id: str, name: str, role: str, settings: dict[str, Any]
) -> str:
    """Upserts a bot-file agent (as the owner, inside the caller's transaction); returns its id."""
    await act_for(con, org_id)
    agent_id = await con.fetchval(
        QUERIES["agents/upsert_agent"],
        org_id,
        bot_id,
        name,
        role,
        settings.get("description", ""),
        settings.get("model"),
        settings.get("system_prompt", ""),
        settings.get("temperature", 0.2),
        settings.get("max_steps", 6),
        settings.get("max_tokens", 4000),
        {k: v for k, v in settings.items() if k not in ("api_key",)},
    )
    return str(agent_id)


async def _execute_for(pool: asyncpg.Pool, org_id: str, query: str, *args: Any) -> None:
    """Runs one statement as org_id in a short transaction of its own."""
    async with pool.acquire() as con, con.transaction():
        await act_for(con, org_id)
        await con.execute(query, *args)


@final
class PgAgentRecorder:
    """AgentRecorder: agent_runs and agent_run_steps, one short transaction each."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        # Runs of agents that are not rows (no agent_id): nothing to reference, nothing recorded.
        self._unrecorded: set[str] = set()

    async def run_started(self, run: Any) -> None:
        if run.agent_id is None:
            self._unrecorded.add(run.run_id)
            return
        await _execute_for(
            self._pool,
            run.org_id,
            QUERIES["agents/insert_run"],
            run.run_id,
            run.org_id,
            run.agent_id,
            run.conversation_id,
            run.parent_run_id,
            run.model,
            run.started_at,
        )

    async def step(self, step: Any) -> None:
        if step.run_id in self._unrecorded:
            return
        await _execute_for(
            self._pool,
            step.org_id,
            QUERIES["agents/insert_step"],
            step.org_id,
            step.run_id,
            step.step_no,
            step.kind,
            step.status,
            {**step.input, **({"tool": step.tool} if step.tool else {})},
            step.output,
            step.prompt_tokens,
            step.completion_tokens,
            step.latency_ms,
        )

    async def run_finished(self, run: Any) -> None:
        if run.run_id in self._unrecorded:
            self._unrecorded.discard(run.run_id)
            return
        await _execute_for(
            self._pool,
            run.org_id,
            QUERIES["agents/finish_run"],
            run.run_id,
            run.status,
            run.steps,
            run.prompt_tokens,
            run.completion_tokens,
            run.error,
            run.finished_at,
        )


@final
class PgUsageMeter:
    """UsageMeter: prompt and completion tokens into usage_events, idempotently."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, usage: Any) -> None:
        await _execute_for(
            self._pool,
            usage.org_id,
            QUERIES["agents/insert_token_usage"],
            usage.org_id,
            usage.bot_id,
            usage.conversation_id,
            usage.idempotency_key,
            {"agent": usage.agent, "model": usage.model, "run_id": usage.run_id, "estimated": usage.estimated},
            usage.prompt_tokens,
            usage.completion_tokens,
            time.time(),
        )
