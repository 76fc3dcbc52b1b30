"""Acting for one organization inside a transaction (row-level security)."""

from __future__ import annotations

import asyncpg

from storage.queries import QUERIES


async def act_for(con: asyncpg.Connection, org_id: str) -> None:
    """Scopes the rest of the current transaction to org_id."""
    await con.execute(QUERIES["tenancy/set_org"], org_id)
