"""Message insert throughput: raw executemany and COPY into a plain table, against the storage
batch writer's INSERT ... SELECT FROM unnest(...) into `messages` with row-level security forced.

    python -m loadtests.batch_insert --rows 50000

Starts its own embedded PostgreSQL in a temporary directory, migrates, and stops it at the end.
COPY FROM is refused on a table under row-level security, which is why the writer uses unnest.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from loadtests.common import print_table
from storage.embedded import DATABASE, EmbeddedPostgres, with_database
from storage.migrations import migrate
from storage.pool import create_app_pool
from storage.queries import QUERIES
from storage.tenancy import act_for

COLUMNS = ("id", "org_id", "conversation_id", "direction", "seq", "external_id", "kind", "text", "body", "status", "created_at")


def _rows(n: int, org_id: str, conversation_id: str) -> list[tuple[Any, ...]]:
    now = time.time()
    return [
        (
            str(uuid.uuid4()), org_id, conversation_id, "inbound", None, f"ext-{i}", "text",
            f"message number {i} with a little text", {"type": "inboundtext", "text": f"message {i}"}, "processed", now,
        )
        for i in range(n)
    ]


async def _timed(label: str, batch: int, rows: list[tuple[Any, ...]], write: Any) -> tuple[str, int, float]:
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        await write(rows[start : start + batch])
    return label, batch, len(rows) / (time.perf_counter() - started)


async def run(args: argparse.Namespace) -> int:
    data = Path(tempfile.mkdtemp(prefix="botrt-bench-"))
    server = EmbeddedPostgres(data)
    uri = await asyncio.to_thread(server.start)
    results: list[tuple[str, int, float]] = []
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
        encoder = msgspec.json.Encoder()
        # Binary jsonb (a version byte, then the text), which COPY's binary format needs.
        await owner.set_type_codec(
            "jsonb",
            encoder=lambda v: b"\x01" + encoder.encode(v),
            decoder=lambda b: msgspec.json.decode(b[1:]),
            schema="pg_catalog",
            format="binary",
        )
        pool = await create_app_pool(dsn, size=2)

        for batch in (1, 100, 1000):
            rows = _rows(args.rows // (20 if batch == 1 else 1), org_id, conversation_id)
            await owner.execute(QUERIES["bench/truncate_plain_table"])

            async def executemany(chunk: list[tuple[Any, ...]]) -> None:
                async with owner.transaction():
                    await owner.executemany(QUERIES["bench/insert_plain_row"], chunk)

            results.append(await _timed("raw executemany, plain table", batch, rows, executemany))
            await owner.execute(QUERIES["bench/truncate_plain_table"])

            async def copy(chunk: list[tuple[Any, ...]]) -> None:
                # created_at is left to its default, as the writer's rows get theirs from ts.
                await owner.copy_records_to_table(
                    "bench_plain_messages", records=[r[:10] for r in chunk], columns=COLUMNS[:10]
                )
            results.append(await _timed("raw COPY, plain table", batch, rows, copy))

            fresh = _rows(len(rows), org_id, conversation_id)

            async def unnest(chunk: list[tuple[Any, ...]]) -> None:
                async with pool.acquire() as con, con.transaction():
                    await act_for(con, org_id)
                    await con.execute(QUERIES["messages/insert_messages"], *zip(*chunk, strict=True))

            results.append(await _timed("batch writer: unnest into messages, RLS forced", batch, fresh, unnest))
        await pool.close()
        await owner.close()
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(data, ignore_errors=True)

    copy_1000 = next(rate for label, batch, rate in results if label.startswith("raw COPY") and batch == 1000)
    print_table(
        f"message inserts ({args.rows} rows per case; batch size 1 uses {args.rows // 20})",
        [(f"{label} x{batch}", f"{rate:,.0f} rows/s ({rate / copy_1000:.0%} of raw COPY x1000)") for label, batch, rate in results],
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    if args.rows < 1000:
        parser.error("--rows must be at least 1000")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
