"""Acting for one organization inside a transaction (row-level security)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import TypeVar

import asyncpg

from storage.queries import QUERIES

T = TypeVar("T")


async def act_for(con: asyncpg.Connection, org_id: str) -> None:
    """Scopes the rest of the current transaction to org_id."""
    await con.execute(QUERIES["tenancy/set_org"], org_id)


async def per_org(
    con: asyncpg.Connection, items: Iterable[T], org_of: Callable[[T], str]
) -> AsyncIterator[tuple[str, list[T]]]:
    """The items of a batch grouped by organization, acting for each group's org before it is
    yielded: one transaction may write for several tenants, each under its own policy."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(org_of(item), []).append(item)
    for org_id, group in groups.items():
        await act_for(con, org_id)
        yield org_id, group
