"""Acting for one organization inside a transaction (row-level security)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

import asyncpg

from storage.queries import QUERIES

T = TypeVar("T")


async def act_for(con: asyncpg.Connection, org_id: str) -> None:
    """Scopes the rest of the current transaction to org_id."""
    await con.execute(QUERIES["tenancy/set_org"], org_id)


def _by_org(items: Iterable[T], org_of: Callable[[T], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(org_of(item), []).append(item)
    return groups


async def per_org(
    con: asyncpg.Connection, items: Iterable[T], org_of: Callable[[T], str]
) -> AsyncIterator[tuple[str, list[T]]]:
    """The items of a batch grouped by organization, acting for each group's org before it is
    yielded: one transaction may write for several tenants, each under its own policy."""
    for org_id, group in _by_org(items, org_of).items():
        await act_for(con, org_id)
        yield org_id, group


async def for_each_org(
    con: asyncpg.Connection,
    items: Iterable[T],
    org_of: Callable[[T], str],
    write: Callable[[str, list[T]], Awaitable[None]],
    *,
    atomic: bool = False,
) -> None:
    """Runs write(org_id, group) per organization on a connection outside any transaction.

    For writes that act for their org themselves in one self-committing statement (the
    botrt_* functions of sql/schema): one org, the common case, is that one statement; several
    are wrapped in one transaction so the batch stays all-or-nothing. atomic forces the
    transaction, for a write that runs more statements after the one that acts for its org.
    """
    groups = _by_org(items, org_of)
    if len(groups) == 1 and not atomic:
        org_id, group = next(iter(groups.items()))
        await write(org_id, group)
        return
    async with con.transaction():
        for org_id, group in groups.items():
            await write(org_id, group)
