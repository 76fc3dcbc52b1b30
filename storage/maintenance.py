"""Database maintenance: monthly partitions, retention and the analytics refresh (`botrt db maintain`).

The work is done by SQL functions (sql/schema/095_partition_maintenance.sql); this module runs
them in short transactions and reports what they did. Run it on an owner connection (the
migrating role: superuser or BYPASSRLS), never on the runtime's botrt_app pool.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Final, final

import asyncpg
import msgspec

from storage.queries import QUERIES

PRUNE_BATCH_SIZE: Final = 10_000


@final
class MaintenanceReport(msgspec.Struct, frozen=True, kw_only=True):
    """What one maintenance run did."""

    as_of: dt.datetime
    created_partitions: tuple[str, ...]
    dropped_partitions: tuple[str, ...]
    # Organizations checkpointed in the audit chain for the dropped audit partitions.
    audit_checkpoints: int
    # Rows moved out of DEFAULT partitions into partitions of their own.
    drained_default_rows: int
    # Rows deleted, by table, of organizations whose retention is shorter than the longest.
    deleted_rows: dict[str, int]
    prune_batches: int
    pruned_dedupe_keys: int
    refreshed_views: tuple[str, ...]


async def maintain(
    con: asyncpg.Connection,
    *,
    as_of: dt.datetime | None = None,
    batch_size: int = PRUNE_BATCH_SIZE,
    refresh: bool = True,
) -> MaintenanceReport:
    """Creates partitions ahead, retires expired ones and rows, refreshes the analytics views."""
    when = as_of if as_of is not None else dt.datetime.now(dt.UTC)
    async with con.transaction():
        steps = await con.fetch(QUERIES["maintenance/maintain_partitions"], when)
    deleted: Counter[str] = Counter()
    batches = 0
    while True:
        # One transaction per batch keeps locks and undo short on a busy database.
        async with con.transaction():
            pruned = await con.fetch(QUERIES["maintenance/prune_expired_rows"], when, batch_size)
        if not pruned:
            break
        batches += 1
        for row in pruned:
            deleted[row["table_name"]] += row["deleted"]
    refreshed: tuple[str, ...] = ()
    if refresh:
        async with con.transaction():
            views = await con.fetch(QUERIES["maintenance/refresh_analytics"])
        refreshed = tuple(view["view_name"] for view in views)

    def of(action: str) -> list[asyncpg.Record]:
        return [step for step in steps if step["action"] == action]

    return MaintenanceReport(
        as_of=when,
        created_partitions=tuple(step["detail"] for step in of("created")),
        dropped_partitions=tuple(step["detail"] for step in of("dropped")),
        audit_checkpoints=sum(step["row_count"] for step in of("checkpointed")),
        drained_default_rows=sum(step["row_count"] for step in of("drained_default")),
        deleted_rows=dict(deleted),
        prune_batches=batches,
        pruned_dedupe_keys=sum(step["row_count"] for step in of("pruned_dedupe_keys")),
        refreshed_views=refreshed,
    )
