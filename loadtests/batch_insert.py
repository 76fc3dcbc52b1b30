"""Message insert throughput: raw executemany and COPY into a plain table, against the storage
batch writer's insert into `messages` (partitioned, indexed, row-level security forced).

    python -m loadtests.batch_insert --rows 20000 --rounds 3

Starts its own embedded PostgreSQL in a temporary directory, migrates, and stops it at the end.
Each case runs --rounds times, the cases interleaved, and the median is reported (this machine's
neighbours make single runs swing by a third).

The writer's case is what storage runs for each batch: a transaction that acts for the
organization and calls storage.conversations.insert_messages with rows made by message_row from
real events. It runs as the writer is deployed: GroupCommitter flushes with two flushers, each
on its own connection, so one batch is encoded while the other executes (the "x2" cases). Raw
COPY is shown both ways: on one connection, the issue's reference, and on two, like for like.
COPY FROM is refused on a table under row-level security, which is why the writer does not use it.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from loadtests.common import print_table
from runtime.events import InboundText
from runtime.ids import new_id
from storage.conversations import insert_messages, message_row
from storage.embedded import DATABASE, EmbeddedPostgres, with_database
from storage.migrations import migrate
from storage.pool import create_app_pool
from storage.queries import QUERIES
from storage.tenancy import act_for

PLAIN_COLUMNS = ("id", "org_id", "conversation_id", "direction", "seq", "external_id", "kind", "text", "body", "status")
# The GroupCommitter's default number of flushers (storage/batch.py).
WRITER_FLUSHERS = 2

Write = Callable[[Sequence[tuple[Any, ...]]], Awaitable[None]]


def _events(n: int, org_id: str, conversation_id: str) -> list[InboundText]:
    now = time.time()
    return [
        InboundText(
            event_id=new_id(), org_id=org_id, conversation_id=conversation_id, channel_id=conversation_id,
            channel_kind="telegram", ts=now, external_id=f"ext-{i}", text=f"message number {i} with a little text",
        )
        for i in range(n)
    ]


def _writer_rows(events: list[InboundText]) -> list[tuple[Any, ...]]:
    return [message_row(e, direction="inbound", status="pending") for e in events]


def _plain_rows(events: list[InboundText]) -> list[tuple[Any, ...]]:
    # The same values, as a plain table's columns (created_at left to its default).
    return [
        (r[0], e.org_id, r[1], r[2], r[3], r[4], r[5], r[6], msgspec.to_builtins(r[7]), r[8])
        for e, r in zip(events, _writer_rows(events), strict=True)
    ]


async def _timed(rows: Sequence[tuple[Any, ...]], batch: int, writers: list[Write]) -> float:
    """Rows per second writing rows in batches, the batches shared out among the writers."""
    chunks = [rows[start : start + batch] for start in range(0, len(rows), batch)]

    async def drive(index: int) -> None:
        for chunk in chunks[index :: len(writers)]:
            await writers[index](chunk)

    started = time.perf_counter()
    await asyncio.gather(*(drive(i) for i in range(len(writers))))
    return len(rows) / (time.perf_counter() - started)


async def run(args: argparse.Namespace) -> int:
    data = Path(tempfile.mkdtemp(prefix="botrt-bench-"))
    server = EmbeddedPostgres(data)
    uri = await asyncio.to_thread(server.start)
    rates: dict[tuple[str, int], list[float]] = {}
    try:
        admin = await asyncpg.connect(uri)
        await admin.execute(QUERIES["admin/create_database"])
        await admin.close()
        dsn = with_database(uri, DATABASE)
        owner = await asyncpg.connect(dsn)
        await migrate(owner)
        seeded = await owner.fetchrow(QUERIES["bench/seed_conversation"])
        org_id, conversation_id = str(seeded["org_id"]), str(seeded["conversation_id"])
        await owner.execute(QUERIES["bench/create_plain_table"])
        raw = [await asyncpg.connect(dsn) for _ in range(WRITER_FLUSHERS)]
        encoder = msgspec.json.Encoder()
        for con in raw:
            # Binary jsonb (a version byte, then the text), which COPY's binary format needs.
            await con.set_type_codec(
                "jsonb",
                encoder=lambda v: b"\x01" + encoder.encode(v),
                decoder=lambda b: msgspec.json.decode(b[1:]),
                schema="pg_catalog",
                format="binary",
            )
        pool = await create_app_pool(dsn, size=WRITER_FLUSHERS)

        def executemany(con: asyncpg.Connection) -> Write:
            async def write(chunk: Sequence[tuple[Any, ...]]) -> None:
                async with con.transaction():
                    await con.executemany(QUERIES["bench/insert_plain_row"], chunk)
            return write

        def copy(con: asyncpg.Connection) -> Write:
            async def write(chunk: Sequence[tuple[Any, ...]]) -> None:
                await con.copy_records_to_table("bench_plain_messages", records=chunk, columns=PLAIN_COLUMNS)
            return write

        async def writer(chunk: Sequence[tuple[Any, ...]]) -> None:
            async with pool.acquire() as con, con.transaction():
                await act_for(con, org_id)
                await insert_messages(con, org_id, chunk)

        cases: list[tuple[str, str, list[Write]]] = [
            ("raw executemany, plain table", "plain", [executemany(raw[0])]),
            ("raw COPY, plain table", "plain", [copy(raw[0])]),
            ("raw COPY, plain table, 2 connections", "plain", [copy(c) for c in raw]),
            ("batch writer into messages, 1 flusher", "writer", [writer]),
            ("batch writer into messages, 2 flushers (as deployed)", "writer", [writer] * WRITER_FLUSHERS),
        ]
        for batch in (1, 100, 1000):
            # Batches of one are slow; a twentieth of the rows gives the same rate sooner.
            count = args.rows // (20 if batch == 1 else 1)
            for _ in range(args.rounds):
                for label, shape, writers in cases:
                    if batch == 1 and label.startswith("raw executemany"):
                        continue  # executemany of one row is a plain insert; COPY x1 shows the floor
                    await owner.execute(QUERIES["bench/truncate_plain_table"])
                    events = _events(count, org_id, conversation_id)
                    rows = _plain_rows(events) if shape == "plain" else _writer_rows(events)
                    rates.setdefault((label, batch), []).append(await _timed(rows, batch, writers))
        await pool.close()
        for con in raw:
            await con.close()
        await owner.close()
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(data, ignore_errors=True)

    median = {key: statistics.median(values) for key, values in rates.items()}
    reference = median[("raw COPY, plain table", 1000)]
    print_table(
        f"message inserts ({args.rows} rows per case, batch size 1: {args.rows // 20}; median of {args.rounds} rounds)",
        [
            (
                f"{label} x{batch}",
                f"{rate:,.0f} rows/s ({rate / reference:.0%} of raw COPY x1000; "
                f"rounds {', '.join(f'{r:,.0f}' for r in rates[(label, batch)])})",
            )
            for (label, batch), rate in median.items()
        ],
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.rows < 1000:
        parser.error("--rows must be at least 1000")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
