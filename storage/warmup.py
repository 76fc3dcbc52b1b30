"""Warms every pooled connection for the hot path before traffic arrives.

A fresh connection pays for its first use of each statement: asyncpg prepares it (a round
trip), and its PostgreSQL backend compiles the PL/pgSQL function, loads the catalog entries of
`messages`, its partitions and indexes, and plans the statements. After a start or restart all
of that landed on the first burst of webhooks (platforms retry in bursts after an outage): at
800 updates/s the first 200 ms were acknowledged in 40-90 ms instead of 6-20 ms. Here each
connection runs the hot statements once, on empty input, in a transaction that is rolled back.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import asyncpg

from runtime.logging import get_logger
from storage.queries import QUERIES

log = get_logger(__name__)

# No organization has this id; on empty input nothing is read or written anyway.
_NOBODY: Final = "00000000-0000-0000-0000-000000000000"


class _RolledBack(Exception):
    """Ends the warm-up transaction without committing anything."""


def _statements() -> list[tuple[str, tuple[Any, ...]]]:
    empty = [[] for _ in range(10)]
    return [
        (QUERIES["contacts/open_conversations"], (_NOBODY, [], [], [], [])),
        (QUERIES["messages/accept_inbound"], (_NOBODY, [], [], *empty[:7], [], [])),
        (QUERIES["conversations/commit_turns"], (_NOBODY, [], [], [], [], [], [], [], *empty)),
        (QUERIES["messages/mark_sent"], (_NOBODY, [], [], [], [])),
        (QUERIES["conversations/select_snapshots"], (_NOBODY, [])),
    ]


async def _warm(con: asyncpg.Connection) -> None:
    try:
        async with con.transaction():
            for query, args in _statements():
                await con.fetch(query, *args)
            raise _RolledBack
    except _RolledBack:
        pass


async def warm_up(pool: asyncpg.Pool) -> None:
    """Runs the hot statements once on every connection the pool holds (best effort)."""
    connections = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        results = await asyncio.gather(*(_warm(con) for con in connections), return_exceptions=True)
    finally:
        for con in connections:
            await pool.release(con)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        # A cold connection is slower, not wrong: report and serve anyway.
        log.warning("storage.warm_up_failed", connections=len(failed), error=repr(failed[0]))
