"""Operator-side reads: which organization a conversation is in, open handoffs, idle conversations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from storage.queries import QUERIES
from storage.tenancy import act_for


async def conversation_org(pool: asyncpg.Pool, conversation_id: str) -> str | None:
    """The organization of a conversation (None for an unknown or malformed id)."""
    try:
        uuid.UUID(conversation_id)
    except ValueError:
        return None
    async with pool.acquire() as con:
        org = await con.fetchval(QUERIES["conversations/lookup_org"], conversation_id)
    return None if org is None else str(org)


async def open_handoffs(pool: asyncpg.Pool, org_ids: Sequence[str], limit: int = 500) -> list[dict[str, Any]]:
    """Open handoffs of these organizations, oldest first."""
    found: list[dict[str, Any]] = []
    async with pool.acquire() as con:
        for org_id in org_ids:
            async with con.transaction():
                await act_for(con, org_id)
                rows = await con.fetch(QUERIES["handoffs/select_open"], limit)
            found += [{**dict(r), "conversation_id": str(r["conversation_id"]), "org_id": org_id} for r in rows]
    return sorted(found, key=lambda h: float(h["requested_at"]))


async def idle_conversations(pool: asyncpg.Pool, org_id: str, idle_for: float, limit: int = 1000) -> list[str]:
    """Open conversations of an organization with no message for idle_for seconds."""
    async with pool.acquire() as con, con.transaction():
        await act_for(con, org_id)
        rows = await con.fetch(QUERIES["conversations/select_idle"], idle_for, limit)
    return [str(r["id"]) for r in rows]
